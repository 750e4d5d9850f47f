import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Store, withMount } from '../../store/index.js';

/** The committed snapshot name for a cache key: equal keys share one snapshot across builds. */
export function snapshotName(key: string): string {
  return `k-${key.replace(/^sha256:/, '').slice(0, 40)}`;
}

export function activeKey(): string {
  return `active-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Commits an active snapshot under `name`. Two builds racing to the same key both did the same
 * work: the first commit wins, the loser drops its copy and uses the winner's.
 */
export async function commitAs(store: Store, active: string, name: string): Promise<string> {
  if (await store.snapshots.tryStat(name)) {
    await store.snapshots.remove(active).catch(() => undefined);
    return name;
  }
  try {
    await store.snapshots.commit(name, active);
  } catch (e) {
    if (await store.snapshots.tryStat(name)) {
      await store.snapshots.remove(active).catch(() => undefined);
      return name;
    }
    throw e;
  }
  return name;
}

/** Mounts a snapshot's mounts on a fresh dir under `<root>/tmp` for `fn`, then unmounts. */
export async function withMounted<T>(
  store: Store,
  mounts: Awaited<ReturnType<Store['snapshots']['prepare']>>,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = join(store.root, 'tmp', `m-${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  try {
    return await withMount(mounts, dir, fn);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** A read-only view of a committed snapshot (or an empty dir for scratch) for `fn`. */
export async function withView<T>(
  store: Store,
  snapshot: string | undefined,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  if (!snapshot) {
    const dir = await store.tempDir('scratch');
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const key = `view-${activeKey()}`;
  const mounts = await store.snapshots.view(key, snapshot);
  try {
    return await withMounted(store, mounts, fn);
  } finally {
    await store.snapshots.remove(key).catch(() => undefined);
  }
}
