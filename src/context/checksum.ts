import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { TsbuildError } from '../errors.js';
import { fsPath } from '../fs-names.js';
import { resolveComponents } from '../resolve-components.js';
import { globToRegExp, hasWildcard } from './glob.js';
import { PatternMatcher } from './pattern-matcher.js';
import type { ContextEntry, ContextSnapshot } from './scan-context.js';

/** One COPY source resolved in the context: the path it names and what gets copied under it. */
export interface SelectedSource {
  /** The matched path (context-relative; '' for the root). */
  path: string;
  entry: ContextEntry | undefined;
  /** The entry and all its descendants (after --exclude), context-relative. */
  entries: ContextEntry[];
  /**
   * The name a copy of it gets inside a destination directory: the last component as written or as
   * a wildcard matched it, not the name a followed symlink points to (BuildKit names by the
   * unfollowed path: `COPY sub/* /w/` with `sub/l -> a` makes `/w/l`).
   */
  name: string;
}

export interface SelectOptions {
  /** COPY --exclude patterns, matched against paths relative to each source. */
  excludes?: string[];
}

/** Normalizes a COPY source word to a context-relative path ('' = the root). */
export function contextPath(src: string): string {
  const c = posix.normalize(`/${src}`);
  return c === '/' ? '' : c.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * Resolves COPY/ADD sources against the scanned context: wildcards match like Go's path.Match (the
 * matched set is part of the key), plain paths must exist (BuildKit: "not found"), a symlink named
 * as a source is followed inside the context.
 */
export function selectSources(
  snap: ContextSnapshot,
  sources: string[],
  opts: SelectOptions = {},
): SelectedSource[] {
  const out: SelectedSource[] = [];
  const ex = opts.excludes && opts.excludes.length > 0 ? new PatternMatcher(opts.excludes) : undefined;
  for (const src of sources) {
    // The directories on the way are followed inside the context (BuildKit's FollowSymlinks):
    // `ldir/file` with `ldir -> dir` is `dir/file`; the last component is followLink's.
    const p = throughDirLinks(snap, contextPath(src));
    const roots: string[] = [];
    if (hasWildcard(p)) {
      const re = globToRegExp(p);
      // A wildcard may match nothing: BuildKit's Dockerfile COPY/ADD set AllowEmptyWildcard, so the
      // step copies nothing (and creates no destination) instead of failing. A malformed one
      // (`[ab`) matches nothing too: so BuildKit 0.8 treats a context source (a --from one fails).
      for (const path of snap.paths) if (re.test(path)) roots.push(path);
    } else {
      // BuildKit sends only the context paths its include patterns (the sources) match, and as a
      // pattern a backslash escapes the next character: a plain source naming a file with a
      // backslash (`back\slash`) never reaches its copy, which then fails "not found".
      if (p.includes('\\')) throw notFound(src);
      if (p !== '' && !snap.entries.has(p)) throw notFound(src);
      roots.push(p);
    }
    for (const r of roots) out.push({ ...collect(snap, followLink(snap, r), ex), name: posix.basename(r) });
  }
  return out;
}

/**
 * `p` with the symlinks among its directories resolved inside the context, up to its first
 * wildcard component; what follows (the last component, or the pattern) is kept as written.
 */
function throughDirLinks(snap: ContextSnapshot, p: string): string {
  const parts = p.split('/').filter((x) => x !== '');
  const w = parts.findIndex((x) => hasWildcard(x));
  const fixed = w < 0 ? parts.length - 1 : w;
  if (fixed <= 0) return p;
  const dirs = resolveComponents(parts.slice(0, fixed).join('/'), true, (c) => {
    const e = snap.entries.get(c.join('/'));
    return e?.type === 'symlink' ? e.target : undefined;
  });
  return [...dirs, ...parts.slice(fixed)].join('/');
}

function followLink(snap: ContextSnapshot, path: string): string {
  let p = path;
  for (let i = 0; i < 40; i++) {
    const e = snap.entries.get(p);
    if (e?.type !== 'symlink' || e.target === undefined) return p;
    const t = e.target.startsWith('/') ? e.target : `${posix.dirname(`/${p}`)}/${e.target}`;
    p = contextPath(t);
  }
  throw new TsbuildError('COPY_SYMLINK_LOOP', `too many levels of symbolic links at ${path}`);
}

function collect(
  snap: ContextSnapshot,
  root: string,
  ex: PatternMatcher | undefined,
): Omit<SelectedSource, 'name'> {
  const entry = root === '' ? undefined : snap.entries.get(root);
  const entries: ContextEntry[] = [];
  if (entry) entries.push(entry);
  if (root === '' || entry?.type === 'dir') {
    const prefix = root === '' ? '' : `${root}/`;
    for (const path of snap.paths) {
      if (!path.startsWith(prefix)) continue;
      if (ex?.matchesOrParentMatches(path.slice(prefix.length))) continue;
      entries.push(snap.entries.get(path) as ContextEntry);
    }
  }
  return { path: root, entry, entries };
}

function notFound(src: string): TsbuildError {
  return new TsbuildError(
    'COPY_SOURCE_NOT_FOUND',
    `failed to compute cache key: "/${contextPath(src)}": not found`,
    {
      hint: 'check the path and .dockerignore',
    },
  );
}

/**
 * The content checksum of selected sources: names relative to each source, type, permission and
 * type bits, content hash or link target, and the matched set. Never mtime, nor uid/gid: the
 * docker CLI sends the context with every id reset to 0 (resetUIDAndGID), so BuildKit neither
 * shows nor keys them, and no step of tsbuild shows them either (COPY makes root's files, a bind
 * mount of the context shows them root's). `owners`: a tarball context, which keeps them (its
 * copies show them, and BuildKit's content hash, tarsum's header, has them).
 */
export function checksumSelection(selected: SelectedSource[], owners = false): string {
  const h = createHash('sha256');
  for (const s of selected) {
    // fsPath: names that are not UTF-8 hash as their bytes (as strings they would all be U+FFFD)
    h.update(fsPath(`source\0${s.path}\0`));
    const base = s.path === '' ? '' : `${s.path}/`;
    for (const e of s.entries) {
      const rel = e.path === s.path ? '.' : e.path.slice(base.length);
      const ids = owners ? `\0${e.uid}:${e.gid}` : '';
      h.update(fsPath(`${rel}\0${e.type}\0${e.mode.toString(8)}\0${e.hash ?? e.target ?? ''}${ids}\n`));
    }
  }
  return `sha256:${h.digest('hex')}`;
}
