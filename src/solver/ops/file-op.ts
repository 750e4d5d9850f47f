import { checksumSelection, PatternMatcher, selectSources } from '../../context/index.js';
import { digestOf, type FileAction, type FileOp, type Vertex } from '../graph.js';
import type { OpContext, OpImpl, OpResult } from '../scheduler.js';
import { resolveChown, resolveUserOwner } from './chown.js';
import { type ContentRead, contentFamilyOf, contentKeyOf } from './content-checksum.js';
import { copyFromContext, copyFromInput, type Sources } from './copy-from.js';
import { copyWithParents, copyWithParentsFromView, parentsInContext, splitParents } from './copy-parents.js';
import { writeInline } from './copy-sources.js';
import { ensureDir, type Owner } from './copy-tree.js';
import { type DestFs, directDest, directSource, mkdirDirect, mountedDest } from './direct-fs.js';
import type { SolvedFs, SolverEnv } from './env.js';
import { type MergedRoot, NeedsMount } from './merged-root.js';
import { activeKey, commitStep, emptyDir, mountView, withMounted } from './snapshots.js';

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
  if (a.parents) {
    if (d.merged) throw new NeedsMount('--parents');
    if (snap) await copyWithParents(a, snap, d.root, base);
    else await copyWithParentsFromView(a, await src.view(a.input), d.root, base);
    return;
  }
  if (snap) {
    await copyFromContext(a, snap, d, base, owner);
    return;
  }
  await copyFromInput(a, d, src, { ...base, ...(excludes ? { excludes } : {}) }, owner);
}

export type { Vertex };
