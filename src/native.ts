import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The addon `npm ci` compiles from native/tsbuild-native.c (binding.gyp): the xattr and mknod
 * system calls Node lacks, and a spawn that does not fork this process. Without it (no compiler
 * at install, or TSBUILD_NO_NATIVE=1) the same work goes through getfattr, setfattr and mknod
 * child processes and Node's spawn, each a fork of this whole process (5-20 ms of the main thread).
 */
export interface NativeCalls {
  /**
   * Every xattr under `dir` (the tree, symlinks not followed) or of `paths` relative to it: records
   * of u32 length (host order: little-endian on amd64 and arm64) + bytes for the relative path,
   * the name and the value. Running out of fds or memory rejects (a subtree is never skipped).
   */
  readXattrs(dir: Buffer, paths?: Buffer[]): Promise<Buffer>;
  /** lsetxattr(2) */
  setXattr(path: Buffer, name: string, value: Buffer): void;
  /** `chattr +T` (FS_TOPDIR_FL through FS_IOC_SETFLAGS); throws where the filesystem has no such flag. */
  setTopDir(path: string): void;
  /** mknod(2), mode 0666 less the umask */
  mknod(path: Buffer, type: 'c' | 'b' | 'p', major: number, minor: number): void;
  /**
   * Starts `file` (a path) with `argv` (argv[0] included), stdin /dev/null, stdout and stderr piped:
   * [pid, stdout read fd, stderr read fd]. `onExit(code, signal)` once it is reaped (code -1 when
   * a signal ended it). Throws (code ENOENT, EACCES…) when it cannot start.
   */
  spawnPiped(
    file: string,
    argv: string[],
    onExit: (code: number, signal: number) => void,
  ): [number, number, number];
  /**
   * `watcher`: [pid, stdin write fd] instead; stdout and stderr /dev/null, a session of its own,
   * and nothing waits for it (`onExit` is never called): it outlives this process.
   */
  spawnPiped(
    file: string,
    argv: string[],
    onExit: (code: number, signal: number) => void,
    watcher: true,
  ): [number, number];
}

const ADDON = join('build', 'Release', 'tsbuild_native.node');

let loaded: NativeCalls | null | undefined;

/** The addon, or undefined when it is not built (or turned off: TSBUILD_NO_NATIVE=1). */
export function nativeCalls(): NativeCalls | undefined {
  if (process.env.TSBUILD_NO_NATIVE === '1') return undefined;
  loaded ??= load();
  return loaded ?? undefined;
}

/**
 * build/ is at the package root: one level above this module in src/ or dist/ and above the fast
 * path's bundle, three above the extraction worker's bundle in dist/store/layer/.
 */
function load(): NativeCalls | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const file = join(dir, ADDON);
    if (!existsSync(file)) continue;
    try {
      return createRequire(import.meta.url)(file) as NativeCalls;
    } catch {
      // built for another Node ABI or platform: the child processes do the work
      return null;
    }
  }
  return null;
}
