import { realpathSync, type Stats, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { TsbuildError } from '../errors.js';
import { nfs, readdirNames, readlinkName } from '../fs-names.js';
import { hashFiles } from './hash-files.js';
import { type MatchInfo, PatternMatcher } from './pattern-matcher.js';
import { StatCache, type StatKey } from './stat-cache.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

const S_IFREG = 0o100000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** One path of the context, relative to its root with `/` separators (no leading `./`). */
export interface ContextEntry {
  path: string;
  type: EntryType;
  /** Full st_mode (type bits + permissions). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** sha256 hex of a file's content. */
  hash?: string;
  /** A symlink's target, as stored. */
  target?: string;
  /**
   * A unix socket, taken as an empty regular file with the socket's permissions: fsutil's
   * DiskWriter, which receives BuildKit's context, creates one so (its default case).
   */
  socket?: boolean;
}

/** The build context as the solver sees it: what `.dockerignore` lets through, sorted by path. */
export interface ContextSnapshot {
  dir: string;
  entries: Map<string, ContextEntry>;
  /** Paths in sorted order (byte order of the UTF-8 path, like BuildKit's walkers). */
  paths: string[];
  excludes: string[];
  /** Everything the walk lstat'ed, the root first (see ObservedStat). */
  observed: ObservedStat[];
  /** When the walk began (ms since the epoch): a ctime from then on may hide a later change. */
  observedSince: number;
  /** Entries keep their uid/gid (a tarball context); else they are all 0:0 (BuildOptions). */
  keepOwners?: boolean;
}

/**
 * (path, ino, size, mtime, ctime, mode) of a path the scan looked at. The same stats again mean the
 * scan would see the same context: a changed file has a new ctime (no utimes(2) can set it back), a
 * directory whose names changed has a new mtime. Stats are taken before a dir is read and before a
 * file is hashed, so a change racing the scan leaves a stat that no longer matches.
 */
export type ObservedStat = [
  path: string,
  ino: number,
  size: number,
  mtimeMs: number,
  ctimeMs: number,
  mode: number,
];

const observedStat = (path: string, st: Stats): ObservedStat => [
  path,
  st.ino,
  st.size,
  st.mtimeMs,
  st.ctimeMs,
  st.mode,
];

export interface ScanOptions {
  dir: string;
  excludes: string[];
  /** State root for the persistent stat cache; none: hash everything. */
  root?: string;
  /** Context-relative paths whose subtrees are needed ('' or absent: the whole context). */
  include?: string[];
  signal?: AbortSignal;
}

/**
 * The context dir's stat, symlinks followed (docker/cli resolves the path with EvalSymlinks), or
 * docker's "unable to prepare context" errors.
 */
export function contextDirStat(dir: string): Stats {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    throw new TsbuildError('CONTEXT_NOT_FOUND', `unable to prepare context: path "${dir}" not found`, {
      cause: e,
    });
  }
  if (!st.isDirectory())
    throw new TsbuildError(
      'CONTEXT_NOT_DIR',
      `unable to prepare context: context must be a directory: ${dir}`,
      {
        hint: 'give the directory that holds the files to build from; the Dockerfile goes with -f',
      },
    );
  return st;
}

/** The context dir as docker/cli takes it: checked (contextDirStat), then its symlinks resolved. */
export function resolveContextDir(dir: string): string {
  contextDirStat(dir);
  return realpathSync(dir);
}

/**
 * Walks the context with sync fs calls (the fastest way on these machines, DESIGN.md) applying the
 * ignore patterns as BuildKit's fsutil walker does: an excluded directory is skipped whole unless a
 * `!` pattern names a path under it (`mayReinclude`); directories above an included path are included.
 * File contents are hashed only when the stat cache has no entry with the same (dev, ino, size,
 * mtime, ctime).
 */
export async function scanContext(opts: ScanOptions): Promise<ContextSnapshot> {
  const observedSince = Date.now();
  const rootStat = contextDirStat(opts.dir);
  // Only the subtrees COPY/ADD can select (BuildKit's FollowPaths): the rest of the context is
  // never walked nor hashed. Directories on the way to them are walked but hold nothing else.
  const include = opts.include && !opts.include.includes('') ? opts.include : undefined;
  const inScope = (p: string) => !include || include.some((i) => p === i || p.startsWith(`${i}/`));
  const w = new ContextWalk(opts, include, inScope);
  w.observed.push(observedStat('', rootStat));
  w.walk('', undefined);
  if (opts.signal?.aborted) throw opts.signal.reason;
  await hashEntries(opts, w, include ? (p) => !inScope(p) : undefined);
  const paths = [...w.entries.keys()].sort(byteOrder);
  const { entries, observed } = w;
  return { dir: opts.dir, entries, paths, excludes: opts.excludes, observed, observedSince };
}

/** One walk of the context: what it includes, with their stats, and every stat it observed. */
class ContextWalk {
  readonly entries = new Map<string, ContextEntry>();
  readonly stats = new Map<string, Stats>();
  readonly observed: ObservedStat[] = [];
  readonly #pm: PatternMatcher;
  readonly #store: string;

  constructor(
    private readonly opts: ScanOptions,
    private readonly include: string[] | undefined,
    private readonly inScope: (p: string) => boolean,
  ) {
    this.#pm = new PatternMatcher(opts.excludes);
    // A state root inside the context (an explicit --root there) is never part of it: the build
    // writes into it while it runs, and a `COPY . .` would copy the store into the image.
    this.#store = opts.root ? relative(opts.dir, opts.root).split(sep).join('/') : '..';
  }

  /** Walks `rel`; true when something under it is included. */
  walk(rel: string, parentInfo: MatchInfo | undefined): boolean {
    const { dir } = this.opts;
    let names: string[];
    try {
      names = readdirNames(rel === '' ? dir : join(dir, rel));
    } catch (e) {
      throw new TsbuildError('CONTEXT_READ', `cannot read ${rel || '.'} in the build context`, { cause: e });
    }
    names.sort(byteOrder);
    let anyIncluded = false;
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      if (path === this.#store) continue;
      const scoped = this.inScope(path);
      if (!scoped && !this.#onTheWay(path)) continue;
      const pm = this.#pm;
      const st = nfs.lstat(join(dir, path));
      this.observed.push(observedStat(path, st));
      if (!scoped && !st.isDirectory()) continue;
      const { matched, info } =
        pm.patterns.length > 0
          ? pm.matchesUsingParentResults(path, parentInfo)
          : { matched: false, info: undefined };
      if (st.isDirectory()) {
        if (matched && !mayReinclude(pm, path)) continue;
        const childIncluded = this.walk(path, info);
        if (matched && !childIncluded) continue;
      } else if (matched) continue;
      this.#add(path, st);
      anyIncluded = true;
    }
    return anyIncluded;
  }

  #onTheWay(p: string): boolean {
    return !!this.include && this.include.some((i) => i.startsWith(`${p}/`));
  }

  #add(path: string, st: Stats): void {
    const type: EntryType = st.isFile()
      ? 'file'
      : st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? 'symlink'
          : 'other';
    const socket = st.isSocket();
    const e: ContextEntry = {
      path,
      type: socket ? 'file' : type,
      mode: socket ? S_IFREG | (st.mode & 0o7777) : st.mode,
      uid: st.uid,
      gid: st.gid,
      size: type === 'file' ? st.size : 0,
      ...(socket ? { socket, hash: EMPTY_SHA256 } : {}),
    };
    if (type === 'symlink') e.target = readlinkName(join(this.opts.dir, path));
    this.entries.set(path, e);
    this.stats.set(path, st);
  }
}

/** Each file's sha256: from the stat cache when (dev, ino, size, mtime, ctime) match, else read. */
async function hashEntries(
  opts: ScanOptions,
  w: ContextWalk,
  keepOthers: ((p: string) => boolean) | undefined,
): Promise<void> {
  const cache = opts.root ? new StatCache(opts.root, opts.dir) : undefined;
  const key = (st: Stats): StatKey => [st.dev, st.ino, st.size, st.mtimeMs, st.ctimeMs];
  const todo: ContextEntry[] = [];
  let todoBytes = 0;
  for (const e of w.entries.values()) {
    if (e.type !== 'file' || e.socket) continue;
    const hit = cache?.get(e.path, key(w.stats.get(e.path) as Stats));
    if (hit) e.hash = hit;
    else {
      todo.push(e);
      todoBytes += e.size;
    }
  }
  const files = todo.map((e) => join(opts.dir, e.path));
  const hashes = await hashFiles(files, todoBytes, opts.signal);
  todo.forEach((e, i) => {
    e.hash = hashes[i] as string;
    cache?.set(e.path, key(w.stats.get(e.path) as Stats), e.hash);
  });
  cache?.save(keepOthers);
}

/** Code-unit order: equals UTF-8 byte order except between astral and U+E000+ characters. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * fsutil's walker (and moby's archive) descend into an excluded directory only when the text of some
 * `!` pattern starts with the directory's path: `!dir/keep` re-includes under `dir`, but a pattern
 * such as `!**` + `/keep.md` does not, since nothing below an excluded dir is walked to be matched.
 */
export function mayReinclude(pm: PatternMatcher, dir: string): boolean {
  if (!pm.exclusions) return false;
  const dirSlash = `${dir}/`;
  return pm.patterns.some((p) => p.exclusion && `${p.cleaned}/`.startsWith(dirSlash));
}
