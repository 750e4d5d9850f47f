import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { dirUsage } from './snapshot/snapshotter.js';

/**
 * `RUN --mount=type=cache` dirs live in `<root>/cache-mounts/` (the runner makes them; the store
 * only accounts for them and drops them). They are build cache: `prune --all` removes them, as
 * `docker builder prune --all` removes BuildKit's cache mounts, but only while no build runs: a
 * shared cache has no lock, so one in use cannot be told from one that is not.
 */
export function cacheMountsDir(root: string): string {
  return join(root, 'cache-mounts');
}

export async function cacheMountsUsage(root: string): Promise<{ count: number; size: number }> {
  const names = await fsp.readdir(cacheMountsDir(root)).catch(() => [] as string[]);
  const usage = await dirUsage(cacheMountsDir(root));
  return { count: names.filter((n) => /^[0-9a-f]{64}$/.test(n)).length, size: usage.size };
}

/** Removes every cache mount (dirs, their lock files and leftovers); returns how many and the bytes. */
export async function dropCacheMounts(
  root: string,
  dryRun: boolean,
): Promise<{ count: number; bytes: number }> {
  const { count, size } = await cacheMountsUsage(root);
  if (!dryRun) {
    const dir = cacheMountsDir(root);
    for (const n of await fsp.readdir(dir).catch(() => [] as string[]))
      await fsp.rm(join(dir, n), { recursive: true, force: true });
  }
  return { count, bytes: size };
}
