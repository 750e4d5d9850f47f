import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive, type Store, unmount, withMount } from '../../store/index.js';

/**
 * The committed snapshot name for a cache key: equal keys share one snapshot across builds. A
 * `fresh` result (a step run again under --no-cache) gets a name of its own: its key names what
 * the step made before, which it must not be swapped for (see commitAs).
 */
export function snapshotName(key: string, fresh = false): string {
  const name = `k-${key.replace(/^sha256:/, '').slice(0, 40)}`;
  return fresh ? `${name}-${randomBytes(6).toString('hex')}` : name;
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

/**
 * Commits a step's active snapshot under the name for its key (`fresh` from the scheduler), leased
 * first: commitAs may reuse an equal snapshot, which a concurrent prune must not take meanwhile.
 */
export async function commitStep(
  env: { store: Store; retain(snapshot: string): Promise<void> },
  active: string,
  ctx: { key: string; fresh?: boolean },
): Promise<string> {
  const named = snapshotName(ctx.key, ctx.fresh);
  await env.retain(named);
  return commitAs(env.store, active, named);
}

/**
 * A source op's result: a new parentless snapshot that `fill` writes (its dir is the snapshot's own:
 * no mount(8) runs), committed under the step's key, dropped if `fill` fails.
 */
export async function sourceSnapshot(
  env: { store: Store; retain(snapshot: string): Promise<void> },
  ctx: { key: string; fresh?: boolean },
  fill: (dir: string) => Promise<void>,
): Promise<{ snapshot: string; layers: { snapshot: string }[] }> {
  const active = activeKey();
  await env.store.snapshots.prepare(active);
  try {
    await fill(env.store.snapshots.diffDir(active));
  } catch (e) {
    await env.store.snapshots.remove(active).catch(() => undefined);
    throw e;
  }
  const name = await commitStep(env, active, ctx);
  return { snapshot: name, layers: [{ snapshot: name }] };
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

/**
 * A build killed with -9 leaves its COPY mounts (`<root>/tmp/m-<pid>-…`) mounted. The next build
 * unmounts those of dead processes and removes the empty dirs, so fsck/prune never delete through
 * a live overlay mount. Only our own names are touched; anything unexpected is left alone.
 */
export async function cleanupStaleMounts(root: string): Promise<void> {
  const tmp = join(root, 'tmp');
  let names: string[];
  try {
    names = await readdir(tmp);
  } catch {
    return;
  }
  let mounts = '';
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    mounts = '';
  }
  for (const n of names) {
    const m = /^m-(\d+)-[0-9a-f]+$/.exec(n);
    if (!m || pidAlive(Number(m[1]))) continue;
    const dir = join(tmp, n);
    try {
      if (mounts.includes(` ${dir} `)) await unmount(dir);
      await rmdir(dir);
    } catch {
      // Still busy or not empty: leave it for fsck; never recurse into something mounted.
    }
  }
}

export async function emptyDir(env: { store: Store }, cleanups: (() => Promise<void>)[]): Promise<string> {
  const d = await env.store.tempDir('empty');
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** Mounts a read-only view of a snapshot until the step's cleanups run. */
export async function mountView(
  env: { store: Store },
  snapshot: string | undefined,
  cleanups: (() => Promise<void>)[],
): Promise<string> {
  if (!snapshot) return emptyDir(env, cleanups);
  const key = `view-${activeKey()}`;
  const mounts = await env.store.snapshots.view(key, snapshot);
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let ready!: (d: string) => void;
  const dirP = new Promise<string>((r) => {
    ready = r;
  });
  const done = withMounted(env.store, mounts, async (dir) => {
    ready(dir);
    await held;
  }).finally(() => env.store.snapshots.remove(key).catch(() => undefined));
  cleanups.push(async () => {
    release();
    await done;
  });
  const dir = await Promise.race([dirP, done.then(() => '')]);
  await mkdir(dir, { recursive: true });
  return dir;
}
