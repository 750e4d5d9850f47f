import type { Stats } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import type { PatternMatcher } from '../../context/index.js';
import { TsbuildError } from '../../errors.js';
import { nfs, readdirNames, readlinkName } from '../../fs-names.js';
import { applyChmod } from './chmod.js';
import {
  copySmall,
  existsL,
  fileTimes,
  lstatOrUndefined,
  runsAsRoot,
  SMALL_FILE,
  tryLink,
  umask,
} from './copy-io.js';
import { resolveInRoot } from './secure-path.js';

const YIELD_EVERY = 512;

export interface Owner {
  uid: number;
  gid: number;
}

export interface CopyOptions {
  /** Fixed owner (`--chown`); else `preserveOwner` keeps the source's, or root owns. */
  owner?: Owner;
  preserveOwner: boolean;
  chmod?: string;
  /** `--exclude`, matched against paths relative to each source. */
  excludes?: PatternMatcher;
  /**
   * The source is a committed snapshot on the destination's filesystem: a file the copy would
   * reproduce exactly (owner and mode kept) may be a hard link to it. Snapshots are never written
   * in place (overlay copies up; the copy snapshotter copies the parent), so sharing an inode is
   * safe; only files with one link, so a layer never gains a hard link its source did not have.
   * The set holds the inodes (`dev:ino`) this op linked already: a file two sources both reach
   * is linked once and copied the second time, never two paths of one layer on one inode.
   */
  linkFrom?: Set<string>;
  /**
   * Hard links within one source (fsutil's copier, one per source path): the first copy of an inode
   * (`dev:ino`) with more than one link, by its destination; later paths to it become links to that.
   */
  hardlinks?: Map<string, string>;
  /**
   * The name a file source gets inside a destination directory, when it is not the basename of
   * `srcHost`: a followed `--from` symlink keeps the name it was written with (copy-sources.ts).
   */
  name?: string;
  /** The build context: a socket is an empty regular file (see ContextEntry.socket). */
  socketsAsFiles?: boolean;
  /** Collects `[source, destination]` of each file copied to a new inode (not linked). */
  copied?: [string, string][];
}

/**
 * BuildKit's copy with CopyDirContentsOnly + CreateDestPath: a directory source copies its contents
 * into the destination directory, a file goes to `dest/name` when dest ends in `/` or is an existing
 * directory, else to dest itself. Missing parents are created 0755 (owned by the --chown user).
 * All destination paths are resolved inside `destRoot`.
 */
export async function copyInto(
  srcHost: string,
  /** Descendants to copy (relative, parents first); undefined = walk the source dir. */
  children: string[] | undefined,
  destRoot: string,
  dest: string,
  forceDir: boolean,
  opts: CopyOptions,
): Promise<void> {
  const st = nfs.lstat(srcHost);
  // BuildKit's copy keeps the hard links among what one source copies (moby/buildkit's fsutil
  // copier maps each inode with Nlink > 1 to its first target); not across sources.
  const o = { ...opts, hardlinks: new Map() };
  const destHost = resolveInRoot(destRoot, dest, true);
  if (st.isDirectory()) return copyDirInto(srcHost, children, destRoot, dest, destHost, o);
  let target = destHost;
  if (dest.endsWith('/') || forceDir || lstatOrUndefined(destHost)?.isDirectory()) {
    ensureDir(destRoot, dest, o);
    target = join(destHost, o.name ?? posix.basename(srcHost));
  } else {
    ensureDir(destRoot, posix.dirname(dest.replace(/\/+$/, '')) || '/', o);
  }
  copyEntry(srcHost, st, target, destRoot, o);
}

/** A directory source: its contents into the destination directory, directory times last. */
async function copyDirInto(
  srcHost: string,
  children: string[] | undefined,
  destRoot: string,
  dest: string,
  destHost: string,
  opts: CopyOptions,
): Promise<void> {
  const isNew = !existsL(destHost);
  // fsutil's copyDirectory onto a non-directory (a trailing `/` fails earlier, in MkdirAll)
  if (!isNew && !dest.endsWith('/') && !nfs.lstat(destHost).isDirectory())
    throw new TsbuildError('COPY_TYPE_CONFLICT', `cannot copy to non-directory: ${dest}`, {
      hint: 'the destination already has a different kind of entry at that path (BuildKit refuses this too)',
    });
  ensureDir(destRoot, dest, opts);
  // A walk keeps the lstat it made of each entry (4,000-entry trees: one lstat less apiece).
  const walked = new Map<string, Stats>();
  const list = children ?? walkRel(srcHost, opts.excludes, walked);
  const dirs: [string, Stats][] = [];
  // Directories this copy created: nothing can exist below them yet, so no lstat is needed
  // (20,000-file contexts: the syscalls per entry are the cost).
  const fresh = new Set<string>(isNew ? [''] : []);
  // Dirs this copy made without setgid: what is made in them gets the creator's gid. The top one
  // has setgid when it was made below a setgid dir (see ensureDir).
  const plain = new Set<string>(isNew && (nfs.lstat(destHost).mode & 0o2000) === 0 ? [''] : []);
  const seen = new Set<string>(['']);
  let n = 0;
  for (const rel of list) {
    // Sync calls are the fast way (DESIGN.md); a turn of the event loop now and then keeps
    // progress, signals and parallel steps going through a 20,000-entry tree.
    if (++n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    const s = walked.get(rel) ?? nfs.lstat(join(srcHost, rel));
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    // A re-included path (`!`) under an excluded dir: its parents were not copied.
    if (!seen.has(parent)) {
      nfs.mkdirp(dirname(join(destHost, rel)), 0o755);
      seen.add(parent);
    }
    const d = join(destHost, rel);
    const created = copyEntry(join(srcHost, rel), s, d, destRoot, opts, fresh.has(parent), plain.has(parent));
    if (s.isDirectory()) {
      seen.add(rel);
      if (created) fresh.add(rel);
      if (created && (permOf(s, opts) & 0o2000) === 0) plain.add(rel);
      dirs.push([d, s]);
    }
  }
  // Directory times last: creating children changed them.
  for (const [d, s] of dirs.reverse()) nfs.utimes(d, ...fileTimes(s));
}

/**
 * MkdirAll inside the root: created components get 0755 and the --chown owner. Without one they keep
 * what mkdir(2) gives root: 0:0, or, below a setgid directory, its group and the setgid bit (the
 * kernel's rule, which BuildKit's MkdirAll leaves in place; files a RUN makes there inherit it too).
 */
export function ensureDir(destRoot: string, dir: string, opts: { owner?: Owner }): string {
  const parts = dir.split('/').filter((p) => p !== '' && p !== '.');
  let cur = '/';
  let host = destRoot;
  for (const p of parts) {
    cur = posix.join(cur, p);
    host = resolveInRoot(destRoot, cur, true);
    let s: Stats | undefined;
    try {
      s = nfs.lstat(host);
    } catch {
      s = undefined;
    }
    if (s?.isDirectory()) continue;
    if (s)
      throw new TsbuildError('COPY_NOT_DIR', `mkdir ${cur}: not a directory`, {
        hint: `${dir} runs through ${cur}, which is not a directory`,
      });
    nfs.mkdir(host, 0o755);
    // 0755 whatever the umask; the setgid bit the kernel set stays.
    nfs.chmod(host, 0o755 | (nfs.lstat(host).mode & 0o2000));
    if (opts.owner) nfs.lchown(host, opts.owner.uid, opts.owner.gid);
  }
  return host;
}

/**
 * The names of a directory with their lstat, minus whiteouts. In a layer's own dir (a `COPY --from`
 * read straight from a snapshot) a whiteout is a char 0/0 node; overlayfs hides those, but lists
 * them in a directory it does not merge (a layer's dir over a lower non-directory), where lstat
 * then fails with ENOENT. Either way the merged view has no such name.
 */
export function visibleEntries(dir: string, names: string[]): [string, Stats][] {
  const out: [string, Stats][] = [];
  for (const name of names) {
    let st: Stats;
    try {
      st = nfs.lstat(join(dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    if (!(st.isCharacterDevice() && st.rdev === 0)) out.push([name, st]);
  }
  return out;
}

/** Relative paths under `dir`, parents first, sorted; `--exclude` as moby's walker applies it. */
export function walkRel(dir: string, excludes?: PatternMatcher, stats?: Map<string, Stats>): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const [name, s] of visibleEntries(abs, readdirNames(abs).sort())) {
      const r = rel ? `${rel}/${name}` : name;
      const excluded = excludes?.matchesOrParentMatches(r) ?? false;
      if (!excluded) out.push(r);
      stats?.set(r, s);
      if (s.isDirectory() && (!excluded || excludes?.exclusions)) walk(join(abs, name), r);
    }
  };
  walk(dir, '');
  return out;
}

/**
 * One entry: dirs are created (or merged into), files and links replace a file or link there. As in
 * BuildKit (fsutil's copy), a directory never replaces a non-directory (a symlink to a directory
 * included) nor the other way round: both are errors. `inFreshDir`: the parent was created by this
 * copy, so `dest` cannot exist. Returns true when a directory was created.
 */
function copyEntry(
  src: string,
  st: Stats,
  dest: string,
  destRoot: string,
  opts: CopyOptions,
  inFreshDir = false,
  plainParent = false,
): boolean {
  const existing = inFreshDir ? undefined : nfs.lstatIfAny(dest);
  if (existing && existing.isDirectory() !== st.isDirectory()) {
    const at = `/${relative(destRoot, dest)}`;
    throw new TsbuildError(
      'COPY_TYPE_CONFLICT',
      st.isDirectory()
        ? `cannot copy to non-directory: ${at}`
        : `cannot replace to directory ${at} with file`,
      {
        hint: 'the destination already has a different kind of entry at that path (BuildKit refuses this too)',
      },
    );
  }
  if (existing && !existing.isDirectory()) nfs.rm(dest);
  if (st.isDirectory()) return makeDir(dest, st, opts, existing?.isDirectory() ?? false, plainParent);
  if (st.isSymbolicLink()) {
    nfs.symlink(readlinkName(src), dest);
  } else if (st.isFile()) {
    if (st.nlink > 1 && opts.hardlinks) {
      const ino = `${st.dev}:${st.ino}`;
      const first = opts.hardlinks.get(ino);
      if (first !== undefined && tryLink(first, dest)) return false;
      opts.hardlinks.set(ino, dest);
    }
    if (opts.linkFrom && st.nlink === 1 && !opts.owner && !opts.chmod && opts.preserveOwner) {
      const ino = `${st.dev}:${st.ino}`;
      if (!opts.linkFrom.has(ino) && tryLink(src, dest)) {
        opts.linkFrom.add(ino);
        return false;
      }
    }
    opts.copied?.push([src, dest]);
    if (st.size <= SMALL_FILE && copySmall(src, st, dest, opts)) return false;
    nfs.copyFile(src, dest);
  } else if (st.isCharacterDevice() || st.isBlockDevice() || (st.isSocket() && opts.socketsAsFiles)) {
    // BuildKit's copy mknods with Go's os.FileMode, whose device bits are not S_IFCHR/S_IFBLK: the
    // kernel makes an empty regular file with the device's permissions (fsutil copyDevice). A
    // context socket reaches BuildKit's copy as such a file already (ContextEntry.socket).
    nfs.writeEmpty(dest);
  } else {
    // FIFOs and sockets: fsutil's copy returns errors.Wrapf(nil, …), i.e. skips them silently.
    return false;
  }
  const owner = ownerOf(st, opts);
  // chown before chmod: chown clears setuid/setgid bits.
  nfs.lchown(dest, owner.uid, owner.gid);
  if (!st.isSymbolicLink()) {
    nfs.chmod(dest, permOf(st, opts));
    nfs.utimes(dest, ...fileTimes(st));
  } else {
    nfs.lutimes(dest, ...fileTimes(st));
  }
  return false;
}

/**
 * A directory made (or kept) with the source's owner and mode; copyInto dates it after its
 * children. One made here under a parent without setgid is already root's (the builder runs as
 * root) with mode & ~umask, so a chown or chmod that would change nothing is skipped (2,000-dir
 * trees: two syscalls less per dir). Returns true when it was made.
 */
function makeDir(dest: string, st: Stats, opts: CopyOptions, exists: boolean, plainParent: boolean): boolean {
  const owner = ownerOf(st, opts);
  const perm = permOf(st, opts);
  if (!exists) nfs.mkdir(dest, perm & 0o777);
  const fresh = !exists && plainParent;
  if (!(fresh && owner.uid === 0 && owner.gid === 0 && runsAsRoot())) nfs.lchown(dest, owner.uid, owner.gid);
  if (!(fresh && perm === (perm & 0o777 & ~umask()))) nfs.chmod(dest, perm);
  return !exists;
}

/** The id chown(2) reads as "unchanged": BuildKit's `--chown=-1` (a uint32) keeps what the copy made. */
const KEEP_ID = 0xffffffff;

function ownerOf(st: Stats, opts: CopyOptions): Owner {
  const made = opts.preserveOwner ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 };
  const o = opts.owner;
  if (!o) return made;
  return { uid: o.uid === KEEP_ID ? made.uid : o.uid, gid: o.gid === KEEP_ID ? made.gid : o.gid };
}

function permOf(st: Stats, opts: CopyOptions): number {
  return opts.chmod ? applyChmod(opts.chmod, st.mode, st.isDirectory()) : st.mode & 0o7777;
}

export function parentOf(p: string): string {
  return dirname(p);
}
