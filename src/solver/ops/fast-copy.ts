import { execFile } from 'node:child_process';
import { chmodSync, lchownSync, lstatSync, utimesSync } from 'node:fs';
import { promisify } from 'node:util';
import type { SelectedSource } from '../../context/index.js';
import { hasEscapes } from '../../fs-names.js';
import { ensureDir } from './copy-tree.js';
import { resolveInRoot } from './secure-path.js';

const run = promisify(execFile);

/** Below this many entries the per-entry copy is as fast as starting cp(1). */
const MIN_ENTRIES = 500;

/**
 * A whole context directory copied to a destination that does not exist yet: cp(1) does it ~3x
 * faster than per-entry syscalls from Node. Only when the result is the same as `copyInto`: every
 * path under the source is selected (no ignore or --exclude patterns), no --chown/--chmod and no
 * kept owners of a tarball context (`owner`: files become root's, as cp run by root makes them),
 * and the destination is new, so nothing under it can be a symlink cp would follow (it never
 * follows source links: -P). Returns false when not taken.
 */
export async function fastCopyDir(
  sel: SelectedSource,
  host: string,
  root: string,
  dest: string,
  opts: { ignorePatterns: number; excludes: number; owner: boolean; chmod: boolean },
): Promise<boolean> {
  if (sel.entry?.type !== 'dir' || sel.entries.length < MIN_ENTRIES) return false;
  if (opts.ignorePatterns > 0 || opts.excludes > 0 || opts.owner || opts.chmod) return false;
  // cp would copy a socket as a socket; the context has it as an empty file (ContextEntry.socket).
  if (sel.entries.some((e) => e.socket)) return false;
  // cp gives the destination the source dir's mode and times; BuildKit creates it 0755, root-owned.
  return cpIntoNewDir(host, root, dest, 'mode,timestamps,links', { dateNow: false });
}

/**
 * `COPY --from=stage /dir dest` of a big directory to a destination that does not exist yet: cp(1)
 * with owners kept, as `copyInto` keeps them for stage sources. Taken only when the result is the
 * same: no --chown/--chmod/--exclude, one source, and only files, directories and symlinks below it
 * (copyInto skips FIFOs, sockets and devices; cp would make them). Hard links among the copied files
 * stay links in both (cp --preserve=links). Returns false when not taken.
 */
export async function fastCopyFromDir(
  src: string,
  root: string,
  dest: string,
  opts: { sources: number; excludes: number; owner: boolean; chmod: boolean },
): Promise<boolean> {
  if (opts.sources !== 1 || opts.excludes > 0 || opts.owner || opts.chmod) return false;
  if (hasEscapes(src) || !lstatSync(src).isDirectory()) return false;
  // cp gives the destination the source dir's mode, owner and times; copyInto creates it 0755,
  // root-owned, dated now.
  return cpIntoNewDir(src, root, dest, 'mode,ownership,timestamps,links', {
    dateNow: true,
    // One letter per entry (f, d, l, or another type): the count and the kinds in one walk.
    check: async () => {
      const { stdout } = await run('find', [src, '-mindepth', '1', '-printf', '%y'], { maxBuffer: 64 << 20 });
      return stdout.length >= MIN_ENTRIES && !/[^fdl]/.test(stdout);
    },
  });
}

/**
 * Both fast paths: only onto a destination that does not exist yet (nothing under it can be a
 * symlink cp would follow), then cp(1) of the source dir's contents into the new dir, which gets
 * copyInto's 0755 root:root (and, with dateNow, its time). False when not taken or when cp fails
 * (e.g. a socket): the caller's per-entry copy then finishes the job over what cp made.
 */
async function cpIntoNewDir(
  src: string,
  root: string,
  dest: string,
  preserve: string,
  opts: { dateNow: boolean; check?: () => Promise<boolean> },
): Promise<boolean> {
  const destHost = resolveInRoot(root, dest, true);
  // A name that is not UTF-8 cannot be a child process's argument (the per-entry copy handles it).
  if (hasEscapes(src) || hasEscapes(destHost)) return false;
  try {
    lstatSync(destHost);
    return false;
  } catch {
    // does not exist: the fast path may apply
  }
  if (opts.check && !(await opts.check())) return false;
  ensureDir(root, dest, {});
  try {
    await run('cp', ['-R', '-P', `--preserve=${preserve}`, `${src}/.`, destHost], { maxBuffer: 1 << 20 });
  } catch {
    return false;
  }
  chmodSync(destHost, 0o755);
  lchownSync(destHost, 0, 0);
  if (opts.dateNow) {
    const now = new Date();
    utimesSync(destHost, now, now);
  }
  return true;
}
