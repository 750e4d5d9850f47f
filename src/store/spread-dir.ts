import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One file's creation (open + close, from JS) where no freed inodes wait: 0.05-0.09 ms here; in a
 * group where 4,000 inodes were just freed, 0.13-0.22 ms (and each file of the tree then costs
 * 4x). Four allocations (two dirs, two files) told the two apart no better (0.13-0.2 against
 * 0.42-0.5 ms) at three times the system calls, on every snapshot tree of every step.
 */
const FAST_MS = 0.12;
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
 * one allocation and, when it is slow, made again under another name (another hash, so
 * mostly another group), keeping the fastest of a few. A group that is fine costs one probe
 * (~0.1 ms, synchronous: async calls would time the thread pool, not the filesystem).
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
    // Empty again once probed.
    if (best === undefined || ms < best.ms) {
      if (best) rmdirSync(best.dir);
      best = { dir, ms };
    } else rmdirSync(dir);
    if (ms < FAST_MS) break;
  }
  return (best as { dir: string }).dir;
}

/**
 * ms to make a file in `dir` (where a tree's own entries will be allocated: a file or a directory
 * made in a directory that is not a top one goes to its parent's group first); it is removed again.
 */
function allocationCost(dir: string): number {
  const name = join(dir, '.probe');
  const start = process.hrtime.bigint();
  closeSync(openSync(name, 'wx'));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  unlinkSync(name);
  return ms;
}
