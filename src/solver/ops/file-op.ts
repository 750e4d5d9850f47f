import { join } from 'node:path';
import { checksumSelection, PatternMatcher, selectSources } from '../../context/index.js';
import { nfs } from '../../fs-names.js';
import { digestOf, type FileAction, type FileOp, type Vertex } from '../graph.js';
import type { OpContext, OpImpl, OpResult } from '../scheduler.js';
import { resolveChown, resolveUserOwner } from './chown.js';
import { type ContentRead, contentFamilyOf, contentKeyOf } from './content-checksum.js';
import { copyFileCapabilities, copyTreeCapabilities } from './copy-caps.js';
import { copyWithParents, copyWithParentsFromView, parentsInContext, splitParents } from './copy-parents.js';
import { matchInView, sourceName, writeInline } from './copy-sources.js';
import { type CopyOptions, copyInto, ensureDir, type Owner } from './copy-tree.js';
import {
  type DestFs,
  directDest,
  directSource,
  mkdirDirect,
  mountedDest,
  placeDest,
  topNames,
} from './direct-fs.js';
import type { SolvedFs, SolverEnv } from './env.js';
import { fastCopyDir, fastCopyFromDir } from './fast-copy.js';
import { type MergedRoot, NeedsMount } from './merged-root.js';
import { resolveInRoot } from './secure-path.js';
import { activeKey, commitStep, emptyDir, mountView, withMounted } from './snapshots.js';
import { extractArchive, isArchive } from './unpack.js';

/**
 * COPY/ADD/WORKDIR on a prepared snapshot: written into its upper directly where the merged view
 * can be read without overlayfs (see DestFs), else mounted so paths resolve through the rootfs.
 */
export function fileOp(env: SolverEnv): OpImpl {
  return {
    async cacheKey(v, inputKeys) {
      const op = v.op as FileOp;
      return digestOf({ op, inputKeys, checksums: await contextChecksums(env, op), ...codeVersions(op) });
    },
    async contentFamily(v, inputKeys) {
      return contentFamilyOf(v, inputKeys, contentReads(v), () => contentExtra(env, v.op as FileOp));
    },
    async contentKey(v, inputs, inputKeys, ctx) {
      const extra = () => contentExtra(env, v.op as FileOp);
      return contentKeyOf(env, v, inputs, inputKeys, contentReads(v), extra, ctx.signal);
    },
    async exec(v, inputs, ctx) {
      const op = v.op as FileOp;
      const base = op.scratchBase ? undefined : (inputs[0] as OpResult & SolvedFs);
      const srcOf = (i: number) => (i >= 0 ? (inputs[i] as OpResult & SolvedFs).snapshot : undefined);
      let active = activeKey();
      await env.store.snapshots.prepare(active, base?.snapshot);
      if (!(await runDirect(env, op, active, srcOf, ctx))) {
        active = activeKey();
        await runMounted(env, op, active, base?.snapshot, srcOf, ctx);
      }
      const name = await commitStep(env, active, ctx);
      const result: SolvedFs = { snapshot: name, layers: [...(base?.layers ?? []), { snapshot: name }] };
      return result;
    },
  };
}

type SnapshotOf = (input: number) => string | undefined;

/**
 * Versions of the code that makes a file op's result: each rises whenever that code gives another
 * result for the same input, so results cached by older code are not reused. In the content family
 * and key too: a content key is computed for an earlier run by this code, so without them a result
 * the old reading made would match (git log has each step).
 * - copy 5: a --from wildcard's walk does not go into symlinks (4: times before 1970 kept);
 * - unpack 9: a directory entry named `/` or `../` sets the destination's mode, owner and time
 *   (8: an archive's PAX mtime applied, bounded as moby does);
 * - parents 2: the part of a `COPY --parents` source after `/./` is an include pattern (`**`).
 */
function codeVersions(op: FileOp): Record<string, number> {
  const copies = op.actions.filter((a) => a.type === 'copy');
  return {
    copy: 5,
    ...(copies.some((a) => a.unpack) ? { unpack: 9 } : {}),
    ...(copies.some((a) => a.parents) ? { parents: 2 } : {}),
  };
}

async function contentExtra(env: SolverEnv, op: FileOp): Promise<Record<string, unknown>> {
  return { checksums: await contextChecksums(env, op), ...codeVersions(op) };
}

async function contextChecksums(env: SolverEnv, op: FileOp): Promise<string[]> {
  const checksums: string[] = [];
  for (const a of op.actions) {
    if (a.type === 'copy' && a.fromContext) {
      const snap = await env.context();
      const selected = a.parents
        ? a.sources.flatMap((src) => parentsInContext(snap, src, a.excludes))
        : selectSources(snap, a.sources, { excludes: a.excludes });
      checksums.push(checksumSelection(selected, snap.keepOwners));
    }
  }
  return checksums;
}

/** COPY --from sources of inputs read only that way (not the base, not the context): keyed by content. */
function contentReads(v: Vertex): ContentRead[] {
  const op = v.op as FileOp;
  const copies = op.actions.filter(
    (a): a is Extract<FileAction, { type: 'copy' }> =>
      a.type === 'copy' && !a.fromContext && a.input >= 0 && !!v.inputs[a.input],
  );
  return copies
    .filter((a) => op.scratchBase || a.input !== 0)
    .flatMap((a) =>
      a.parents
        ? a.sources.map((src) => {
            const { pivot, pattern } = splitParents(src);
            return { input: a.input, sources: [pivot], excludes: a.excludes, include: pattern };
          })
        : [{ input: a.input, sources: a.sources, excludes: a.excludes }],
    );
}

/**
 * The op written straight into the snapshot's upper (see DestFs). False, with the snapshot
 * removed, when it needs the mounted path: a NeedsMount, or any error (the mounted run then gives
 * the error exactly as before). Source views are mounted only for sources read through a merge.
 */
async function runDirect(
  env: SolverEnv,
  op: FileOp,
  active: string,
  srcOf: SnapshotOf,
  ctx: OpContext,
): Promise<boolean> {
  const cleanups: (() => Promise<void>)[] = [];
  const views = new Map<number, Promise<string>>();
  const merged = new Map<string, MergedRoot>();
  const src: Sources = {
    view: (i) => viewOnce(env, views, i, srcOf, cleanups),
    direct: (i, source) => directSource(env.store, srcOf(i), source, merged),
  };
  try {
    const dest = await directDest(env.store, active);
    for (const a of op.actions) await runAction(env, a, dest, src, ctx);
    return true;
  } catch (e) {
    await env.store.snapshots.remove(active).catch(() => undefined);
    if (ctx.signal.aborted) throw e;
    return false;
  } finally {
    await releaseViews(views, cleanups);
  }
}

async function runMounted(
  env: SolverEnv,
  op: FileOp,
  active: string,
  parent: string | undefined,
  srcOf: SnapshotOf,
  ctx: OpContext,
): Promise<void> {
  const mounts = await env.store.snapshots.prepare(active, parent);
  // One read-only view per source input for the whole op (COPY --from=x a b c mounts x once).
  const cleanups: (() => Promise<void>)[] = [];
  const views = new Map<number, Promise<string>>();
  const src: Sources = {
    view: (i) => viewOnce(env, views, i, srcOf, cleanups),
    direct: async () => undefined,
  };
  // Source views are mounted while the destination is (each mount is a mount(8) run).
  for (const a of op.actions)
    if (a.type === 'copy' && !a.fromContext) src.view(a.input).catch(() => undefined);
  try {
    await withMounted(env.store, mounts, async (root) => {
      for (const a of op.actions) await runAction(env, a, mountedDest(root), src, ctx);
    });
  } catch (e) {
    await env.store.snapshots.remove(active).catch(() => undefined);
    throw e;
  } finally {
    await releaseViews(views, cleanups);
  }
}

interface Sources {
  view: (input: number) => Promise<string>;
  /** Host path of a --from source read without a view, or undefined. */
  direct: (input: number, source: string) => Promise<string | undefined>;
}

function viewOnce(
  env: SolverEnv,
  views: Map<number, Promise<string>>,
  i: number,
  srcOf: SnapshotOf,
  cleanups: (() => Promise<void>)[],
): Promise<string> {
  let v = views.get(i);
  if (!v) {
    const snap = srcOf(i);
    v = snap ? mountView(env, snap, cleanups) : emptyDir(env, cleanups);
    views.set(i, v);
  }
  return v;
}

async function releaseViews(views: Map<number, Promise<string>>, cleanups: (() => Promise<void>)[]) {
  // A view still being mounted registers its cleanup when it is up: wait for it first.
  await Promise.allSettled(views.values());
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
}

async function runAction(
  env: SolverEnv,
  a: FileAction,
  d: DestFs,
  src: Sources,
  ctx: OpContext,
): Promise<void> {
  ctx.signal.throwIfAborted();
  const { root, merged } = d;
  if (a.type === 'mkdir') {
    // No USER: no chown, as BuildKit's mkdir (a setgid parent's group is then kept, see ensureDir).
    const owner = a.user ? resolveUserOwner(d.etc, a.user) : undefined;
    if (merged) mkdirDirect(merged, a.path, owner);
    else ensureDir(root, a.path, owner ? { owner } : {});
    return;
  }
  const owner: Owner | undefined = a.chown ? resolveChown(d.etc, a.chown) : undefined;
  if (a.type === 'inline') {
    writeInline(a, d, owner);
    return;
  }
  const excludes = a.excludes.length > 0 ? new PatternMatcher(a.excludes) : undefined;
  const snap = a.fromContext ? await env.context() : undefined;
  const base = {
    preserveOwner: !a.fromContext || snap?.keepOwners === true,
    ...(a.fromContext ? { socketsAsFiles: true } : {}),
    ...(owner ? { owner } : {}),
    ...(a.chmod ? { chmod: a.chmod } : {}),
  };
  if (snap) {
    if (a.parents) {
      if (merged) throw new NeedsMount('--parents');
      await copyWithParents(a, snap, root, base);
      return;
    }
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
    return;
  }
  await copyFromInput(a, d, src, { ...base, ...(excludes ? { excludes } : {}) }, owner);
}

/** COPY/ADD --from (a stage or image): each source followed in the input's view, named as written. */
async function copyFromInput(
  a: Extract<FileAction, { type: 'copy' }>,
  d: DestFs,
  src: Sources,
  base: CopyOptions,
  owner: Owner | undefined,
): Promise<void> {
  const { root, merged } = d;
  if (a.parents) {
    if (merged) throw new NeedsMount('--parents');
    await copyWithParentsFromView(a, await src.view(a.input), root, base);
    return;
  }
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

export type { Vertex };
