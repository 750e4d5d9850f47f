import type { Stats } from 'node:fs';
import { join, posix } from 'node:path';
import {
  type ContextEntry,
  type ContextSnapshot,
  hasWildcard,
  PatternMatcher,
  type SelectedSource,
  selectSources,
} from '../../context/index.js';
import { TsbuildError } from '../../errors.js';
import { nfs } from '../../fs-names.js';
import type { FileAction } from '../graph.js';
import { matchInView } from './copy-sources.js';
import { type CopyOptions, copyInto, walkRel } from './copy-tree.js';

// COPY --parents as BuildKit's dockerfile2llb makes it: the part of a source before `/./` (else
// `/`) is the copy's source, with wildcards as any source has them; the rest is an include pattern
// (moby's patternmatcher: `**` crosses directories) below each directory that part matched. What
// it includes is copied with the directories on its way (fsutil's createParentDirs: each with its
// source's mode, owner and times), into the destination directory, which is made even when nothing
// is included. A pattern without wildcards must match something ("not found"); one with wildcards
// may match nothing (BuildKit's testCopyParentsMissingDirectory).

type CopyAction = Extract<FileAction, { type: 'copy' }>;

/** The copy's source (`/`-rooted, may hold wildcards) and the include pattern below it. */
export function splitParents(src: string): { pivot: string; pattern: string } {
  const cut = src.indexOf('/./');
  const pivot = posix.normalize(`/${cut >= 0 ? src.slice(0, cut) : ''}`);
  const pattern = posix.normalize(`/${cut >= 0 ? src.slice(cut + 3) : src}`).replace(/^\/+/, '');
  return { pivot, pattern };
}

/**
 * Of `rels` (below one matched source, parents first), those the pattern includes (a directory
 * with all it holds) and the directories on their way, in the same order.
 */
export function includedWithParents(rels: string[], pattern: string): string[] {
  if (pattern === '') return rels;
  const pm = new PatternMatcher([pattern]);
  const keep = new Set<string>();
  for (const r of rels) {
    if (!pm.matchesOrParentMatches(r)) continue;
    keep.add(r);
    for (let i = r.lastIndexOf('/'); i > 0; i = r.lastIndexOf('/', i - 1)) keep.add(r.slice(0, i));
  }
  return rels.filter((r) => keep.has(r));
}

function destDir(dest: string): string {
  return dest.endsWith('/') ? dest : `${dest}/`;
}

function notFound(pivot: string, pattern: string): TsbuildError {
  return new TsbuildError(
    'COPY_SOURCE_NOT_FOUND',
    `failed to compute cache key: "${posix.join(pivot, pattern)}": not found`,
  );
}

/** Each context directory a --parents source reads, with what of it the copy takes. */
export function parentsInContext(snap: ContextSnapshot, src: string, excludes: string[]): SelectedSource[] {
  const { pivot, pattern } = splitParents(src);
  const out: SelectedSource[] = [];
  for (const s of selectSources(snap, [pivot], { excludes })) {
    if (s.entry && s.entry.type !== 'dir') {
      out.push(s);
      continue;
    }
    const prefix = s.path === '' ? '' : `${s.path}/`;
    const below = s.entries.filter((e) => e.path !== s.path);
    const rels = new Set(
      includedWithParents(
        below.map((e) => e.path.slice(prefix.length)),
        pattern,
      ),
    );
    const entries: ContextEntry[] = below.filter((e) => rels.has(e.path.slice(prefix.length)));
    out.push({ ...s, entries: s.entry ? [s.entry, ...entries] : entries });
  }
  if (pattern !== '' && !hasWildcard(pattern) && !out.some((s) => s.entries.some((e) => e !== s.entry)))
    throw notFound(pivot, pattern);
  return out;
}

/** COPY --parents from the context. */
export async function copyWithParents(
  a: CopyAction,
  snap: ContextSnapshot,
  root: string,
  opts: CopyOptions,
): Promise<void> {
  for (const src of a.sources) {
    for (const s of parentsInContext(snap, src, a.excludes)) {
      const host = join(snap.dir, s.path);
      if (s.entry && s.entry.type !== 'dir') {
        await copyInto(host, undefined, root, destDir(a.dest), true, { ...opts, name: s.name });
        continue;
      }
      const prefix = s.path === '' ? '' : `${s.path}/`;
      const children = s.entries.filter((e) => e !== s.entry).map((e) => e.path.slice(prefix.length));
      await copyInto(host, children, root, destDir(a.dest), true, opts);
    }
  }
}

/** COPY --from --parents: the same from a stage's or image's view. */
export async function copyWithParentsFromView(
  a: CopyAction,
  srcRoot: string,
  root: string,
  opts: CopyOptions,
): Promise<void> {
  for (const src of a.sources) {
    const { pivot, pattern } = splitParents(src);
    let found = false;
    for (const m of await matchInView(srcRoot, pivot)) {
      if (!nfs.lstat(m.host).isDirectory()) {
        found = true;
        await copyInto(m.host, undefined, root, destDir(a.dest), true, { ...opts, name: m.name });
        continue;
      }
      const stats = new Map<string, Stats>();
      const children = includedWithParents(walkRel(m.host, opts.excludes, stats), pattern);
      found ||= children.length > 0;
      await copyInto(m.host, children, root, destDir(a.dest), true, opts);
    }
    if (!found && pattern !== '' && !hasWildcard(pattern)) throw notFound(pivot, pattern);
  }
}
