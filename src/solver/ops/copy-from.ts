import { join } from 'node:path';
import { type ContextSnapshot, selectSources } from '../../context/index.js';
import { nfs } from '../../fs-names.js';
import type { FileAction } from '../graph.js';
import { copyFileCapabilities, copyTreeCapabilities } from './copy-caps.js';
import { matchInView, sourceName } from './copy-sources.js';
import { type CopyOptions, copyInto, type Owner } from './copy-tree.js';
import { type DestFs, placeDest, topNames } from './direct-fs.js';
import { fastCopyDir, fastCopyFromDir } from './fast-copy.js';
import { NeedsMount } from './merged-root.js';
import { resolveInRoot } from './secure-path.js';
import { extractArchive, isArchive } from './unpack.js';

// A COPY or ADD action's sources copied into the destination tree: from the build context, or from
// an input (a stage or image) through its view or, where it can, straight from its layer dirs.

/** How the action reads its `--from` input: a mounted view, or a path straight in its layers. */
export interface Sources {
  view: (input: number) => Promise<string>;
  /** Host path of a --from source read without a view, or undefined. */
  direct: (input: number, source: string) => Promise<string | undefined>;
}

/** COPY/ADD from the build context (not --parents): each selected source, a wildcard's matches in turn. */
export async function copyFromContext(
  a: Extract<FileAction, { type: 'copy' }>,
  snap: ContextSnapshot,
  d: DestFs,
  base: CopyOptions,
  owner: Owner | undefined,
): Promise<void> {
  const { root, merged } = d;
  const sel = selectSources(snap, a.sources, { excludes: a.excludes });
  // BuildKit copies each match of a wildcard to the destination in turn (file backend docopy):
  // without a trailing `/` the destination is not made a directory (forceDir false), so with
  // several files the last one wins (several explicit sources need the `/`: the frontend refuses
  // them otherwise). The same for `--from` sources below.
  for (const s of sel) {
    const host = join(snap.dir, s.path);
    if (a.unpack && s.entry?.type === 'file' && !s.entry.socket && (await isArchive(host))) {
      if (merged) throw new NeedsMount('archive');
      await extractArchive(host, root, a.dest, owner);
      continue;
    }
    const children = s.entries
      .filter((e) => e.path !== s.path)
      .map((e) => (s.path === '' ? e.path : e.path.slice(s.path.length + 1)));
    const isDir = s.entry?.type === 'dir' || s.path === '';
    const dest = placeDest(d, a.dest, false, {
      isDir,
      base: s.name,
      top: () => children.filter((c) => !c.includes('/')),
    });
    if (dest === undefined) continue;
    const fast = await fastCopyDir(s, host, root, dest, {
      ignorePatterns: snap.excludes.length,
      excludes: a.excludes.length,
      // cp(1) as root makes root's files: not for a context whose owners are kept
      owner: owner !== undefined || snap.keepOwners === true,
      chmod: a.chmod !== undefined,
    });
    if (!fast) await copyInto(host, children, root, dest, false, { ...base, name: s.name });
  }
}

/** COPY/ADD --from a stage or image (not --parents): each source followed in its view, named as written. */
export async function copyFromInput(
  a: Extract<FileAction, { type: 'copy' }>,
  d: DestFs,
  src: Sources,
  base: CopyOptions,
  owner: Owner | undefined,
): Promise<void> {
  const { root, merged } = d;
  for (const source of a.sources) {
    const direct = await src.direct(a.input, source);
    const matches =
      direct !== undefined
        ? [{ host: direct, name: sourceName(source) }]
        : await matchInView(await src.view(a.input), source);
    for (const { host: m, name } of matches) {
      if (a.unpack && nfs.lstat(m).isFile() && (await isArchive(m))) {
        if (merged) throw new NeedsMount('archive');
        await extractArchive(m, root, a.dest, owner);
        continue;
      }
      const isDir = nfs.lstat(m).isDirectory();
      const dest = placeDest(d, a.dest, false, { isDir, base: name, top: () => topNames(m) });
      if (dest === undefined) continue;
      // Read from a committed layer into an upper on the same filesystem: files can be links,
      // which beats cp(1) (the dirs' mkdirs are then most of the cost).
      const linkFrom = merged !== undefined && direct !== undefined ? d.linked : undefined;
      const fast =
        !linkFrom &&
        (await fastCopyFromDir(m, root, dest, {
          sources: matches.length,
          excludes: a.excludes.length,
          owner: owner !== undefined,
          chmod: a.chmod !== undefined,
        }));
      if (fast) {
        await copyTreeCapabilities(m, resolveInRoot(root, dest, true));
        continue;
      }
      const copied: [string, string][] = [];
      await copyInto(m, undefined, root, dest, false, {
        ...base,
        ...(linkFrom ? { linkFrom } : {}),
        name,
        copied,
      });
      await copyFileCapabilities(copied, isDir ? m : undefined);
    }
  }
}
