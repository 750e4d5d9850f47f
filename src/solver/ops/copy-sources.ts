import { writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { globToRegExp, hasWildcard, isBadGlob } from '../../context/index.js';
import { TsbuildError } from '../../errors.js';
import { fsPath, nfs, readdirNames } from '../../fs-names.js';
import type { FileAction } from '../graph.js';
import { applyChmod } from './chmod.js';
import { existsL, lstatOrUndefined } from './copy-io.js';
import { ensureDir, type Owner } from './copy-tree.js';
import type { DestFs } from './direct-fs.js';
import { NeedsMount } from './merged-root.js';
import { resolveInRoot } from './secure-path.js';

/**
 * A heredoc COPY: one file, 0644 unless --chmod, root's unless --chown. Direct: the target is
 * resolved in the merged view (last component not followed, as mounted) and its parents copied
 * up; replacing anything but a plain file is left to the mounted path.
 */
export function writeInline(a: Extract<FileAction, { type: 'inline' }>, d: DestFs, owner?: Owner): void {
  const m = d.merged;
  const destIsDir =
    a.dest.endsWith('/') ||
    (m
      ? !!m.lookup(m.resolve(a.dest))?.st.isDirectory()
      : !!lstatOrUndefined(resolveInRoot(d.root, a.dest))?.isDirectory());
  let target = destIsDir ? posix.join(a.dest, a.name) : a.dest;
  if (m) {
    const parts = m.resolve(target, false);
    const e = m.lookup(parts);
    if (e && !e.st.isFile()) throw new NeedsMount(target);
    m.copyUpFor(parts);
    target = `/${parts.join('/')}`;
  }
  ensureDir(d.root, posix.dirname(target), owner ? { owner } : {});
  const host = resolveInRoot(d.root, target, false);
  writeFileSync(fsPath(host), a.data);
  nfs.chmod(host, a.chmod ? applyChmod(a.chmod, 0o644, false) : 0o644);
  nfs.lchown(host, owner?.uid ?? 0, owner?.gid ?? 0);
}

/** A matched --from source: its path in the host and the name it is copied under. */
export interface ViewMatch {
  host: string;
  name: string;
  /** Its path in the view as written or matched (symlinks not followed). */
  path?: string;
}

/**
 * The name a --from source is copied under into a directory: the last component as written (or as a
 * wildcard matched it), never the name a symlink resolves to. BuildKit follows the source link for
 * the content but names the copy after the unfollowed path (fsutil copy: `filepath.Base(src)`).
 */
export function sourceName(source: string): string {
  return posix.basename(posix.normalize(`/${source}`));
}

/**
 * A --from source in a mounted view: its wildcard matches (possibly none: BuildKit's
 * AllowEmptyWildcard), or the path, which must exist.
 */
export async function matchInView(srcRoot: string, source: string): Promise<ViewMatch[]> {
  if (hasWildcard(source)) {
    // fsutil's copy globs a --from source with Go's filepath.Glob, which refuses a malformed one
    // (BuildKit 0.8; a context source that is one matches nothing, see selectSources).
    if (isBadGlob(source))
      throw new TsbuildError('COPY_BAD_PATTERN', `${source}: syntax error in pattern`, {
        hint: 'a [ class needs its ] and no bare - or ] inside; escape a literal [ as \\[',
      });
    return globInRoot(srcRoot, source);
  }
  const matches = [{ host: resolveInRoot(srcRoot, source, true), name: sourceName(source) }];
  if (!matches.every((m) => existsL(m.host))) {
    throw new TsbuildError(
      'COPY_SOURCE_NOT_FOUND',
      `failed to compute cache key: "${posix.normalize(`/${source}`)}": not found`,
    );
  }
  return matches;
}

/** Wildcard sources inside a rootfs: each component matched with Go's path.Match rules. */
function globInRoot(root: string, pattern: string): ViewMatch[] {
  const parts = pattern.split('/').filter((p) => p !== '' && p !== '.');
  let cur = ['/'];
  // fsutil's copy: the components before the first wildcard one are a literal path (symlinks
  // followed), the rest one pattern (where a backslash escapes, wildcard or not) matched by a
  // filepath.Walk below it, which does not go into a symlink: `/o/*/lib` finds nothing through a
  // symlink `/o/u` (BuildKit copies nothing then), though `/o/*` matches that symlink itself.
  let inPattern = false;
  let matched = false;
  for (const part of parts) {
    const next: string[] = [];
    inPattern ||= hasWildcard(part);
    for (const dir of cur) {
      if (!inPattern) {
        next.push(posix.join(dir, part));
        continue;
      }
      if (matched && lstatOrUndefined(resolveInRoot(root, dir, false))?.isSymbolicLink()) continue;
      const re = globToRegExp(part);
      let names: string[] = [];
      try {
        names = readdirNames(resolveInRoot(root, dir, true)).sort();
      } catch {
        names = [];
      }
      for (const n of names) if (re.test(n)) next.push(posix.join(dir, n));
    }
    matched ||= inPattern;
    cur = next;
  }
  return cur
    .map((p) => ({ host: resolveInRoot(root, p, true), name: posix.basename(p), path: p }))
    .filter((m) => existsL(m.host));
}
