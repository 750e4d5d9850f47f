import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Four inode allocations (two dirs, two files) where no freed inodes wait take ~0.1 ms here. */
const FAST_MS = 0.5;
const TRIES = 4;

/**
 * `mkdtemp(prefix)` for a tree of the store's `tmp/` (a snapshot's, an unpack, a checkout), in a
 * block group that allocates inodes fast. On ext4
 * without a journal (these machines' root filesystem) every allocation in a group first skips, one
 * by one, the inodes of that group freed in the last minutes (fs/ext4/ialloc.c, recently_deleted):
 * right after a 4,000-inode tree was deleted there (a prune, or `rm -rf` of a store, the bench's
 * reset), each new inode costs ~1 ms and a RUN making 2,000 directories took 2-6 s instead of 1.
 * The store's `tmp/` spreads new dirs over block groups (markTopDir), but Orlov's rule prefers the
 * group with the fewest directories, which is the one just emptied. So the new dir is tried with
 * four allocations and, when they are slow, made again under another name (another hash, so
 * mostly another group), keeping the fastest of a few. A group that is fine costs one probe
 * (~0.2 ms, synchronous: async calls would time the thread pool, not the filesystem).
 */
export function spreadDir(prefix: string, cost: (dir: string) => number = allocationCost): string {
  let best: { dir: string; ms: number } | undefined;
  for (let i = 0; i < TRIES; i++) {
    const dir = mkdtempSync(prefix);
    let ms: number;
    try {
      ms = cost(dir);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      if (best) return best.dir;
      throw e;
    }
    if (best === undefined || ms < best.ms) {
      if (best) rmSync(best.dir, { recursive: true, force: true });
      best = { dir, ms };
    } else rmSync(dir, { recursive: true, force: true });
    if (ms < FAST_MS) break;
  }
  return (best as { dir: string }).dir;
}

/** ms to make two dirs and two files in `dir` (where a tree's own entries will be allocated); they are removed again. */
function allocationCost(dir: string): number {
  const names = ['.d0', '.d1', '.f0', '.f1'].map((n) => join(dir, n));
  const start = process.hrtime.bigint();
  try {
    mkdirSync(names[0]!);
    mkdirSync(names[1]!);
    closeSync(openSync(names[2]!, 'wx'));
    closeSync(openSync(names[3]!, 'wx'));
    return Number(process.hrtime.bigint() - start) / 1e6;
  } finally {
    for (const n of names) rmSync(n, { recursive: true, force: true });
  }
}
