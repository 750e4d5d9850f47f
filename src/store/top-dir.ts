import { execFile } from 'node:child_process';
import { nativeCalls } from '../native.js';

/**
 * Marks `dir` as the top of directory hierarchies (`chattr +T`, FS_TOPDIR_FL), so ext4 places each
 * directory made in it with its Orlov policy for top directories: in a block group chosen from a
 * hash of the new directory's name among those with the fewest directories, not in `dir`'s own group.
 *
 * Why: on ext4 without a journal (these machines' root filesystem), allocating an inode skips every
 * free inode of its group that was deleted in the last minutes (fs/ext4/ialloc.c, recently_deleted),
 * rescanning from the group's start each time. A build that makes a 20,000-file snapshot in the
 * group where the last prune or gc removed 20,000 files is quadratic: `cp -a` of such a tree took
 * 4.5-7 s instead of 0.9 s. Snapshot trees are therefore made in `tmp/` under random names (see
 * LocalSnapshotter) and land in spread, mostly untouched groups.
 *
 * Node has no ioctl: the native addon sets the flag (~0.1 ms), else chattr (e2fsprogs, priority
 * required in Debian) does, once per new store: a fork of this process, ~4 ms of a cold build's
 * busiest main thread. Best effort: another filesystem, or no chattr, only keeps the default placement.
 */
export function markTopDir(dir: string): Promise<void> {
  const native = nativeCalls();
  if (native?.setTopDir) {
    try {
      native.setTopDir(dir);
    } catch {
      // not ext2/3/4 (or no permission): the default placement
    }
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    execFile('chattr', ['+T', dir], () => resolve());
  });
}
