import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  readSync,
  type Stats,
  writeSync,
} from 'node:fs';
import { nfs } from '../../fs-names.js';
import { fsTime } from '../../fs-times.js';
import { applyChmod } from './chmod.js';
import type { CopyOptions } from './copy-tree.js';

/** Up to this size a file is read whole and written with fd-based metadata calls. */
export const SMALL_FILE = 1 << 20;

/**
 * A small file in ~8 syscalls instead of ~14: copyFileSync's fstat/fchmod/ftruncate/copy_file_range
 * then sendfile, and three path lookups for owner, mode and times, cost 2.5x this (300 files: 28 vs
 * 11 ms). `dest` does not exist (copyEntry removed it); O_EXCL never follows a link. False, with
 * nothing written, when the source grew since its lstat: copyFileSync then copies what is there.
 */
export function copySmall(src: string, st: Stats, dest: string, opts: CopyOptions): boolean {
  const buf = Buffer.allocUnsafe(st.size + 1);
  const sfd = nfs.open(src, 'r');
  let n = 0;
  try {
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(sfd, buf, n, buf.length - n, null);
  } finally {
    closeSync(sfd);
  }
  if (n > st.size) return false;
  const fd = nfs.open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    if (n > 0) writeSync(fd, buf, 0, n);
    const owner = opts.owner ?? (opts.preserveOwner ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 });
    // chown before chmod: chown clears setuid/setgid bits.
    fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, opts.chmod ? applyChmod(opts.chmod, st.mode, false) : st.mode & 0o7777);
    futimesSync(fd, ...fileTimes(st));
  } finally {
    closeSync(fd);
  }
  return true;
}

export function tryLink(src: string, dest: string): boolean {
  try {
    nfs.link(src, dest);
    return true;
  } catch {
    return false;
  }
}

/** lstat, or undefined for a path that is not there (or cannot be, through a non-directory). */
export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return nfs.lstat(p);
  } catch {
    return undefined;
  }
}

export function existsL(p: string): boolean {
  try {
    nfs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

let umaskValue: number | undefined;
export function umask(): number {
  // Read once (reading it is allowed in workers too); nothing in tsbuild changes it.
  umaskValue ??= process.umask();
  return umaskValue;
}

export function runsAsRoot(): boolean {
  return process.geteuid?.() === 0 && process.getegid?.() === 0;
}

/**
 * atime/mtime as fractional seconds. Not `st.mtime`: Node rounds that Date to the millisecond, so a
 * file modified at x.9996 s came out at x+1 s, one second later in the layer tar than the same file
 * copied by cp(1) (which keeps nanoseconds). Seconds as a double keep ~0.2 µs here, and libuv truncates.
 * A time before 1970 goes as a Date (fsTime).
 */
export function fileTimes(st: { atimeMs: number; mtimeMs: number }): [number | Date, number | Date] {
  return [fsTime(st.atimeMs / 1000), fsTime(st.mtimeMs / 1000)];
}
