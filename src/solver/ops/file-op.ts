import { chmodSync, lchownSync, lstatSync, readdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import {
  checksumSelection,
  contextPath,
  globToRegExp,
  hasWildcard,
  PatternMatcher,
  selectSources,
} from '../../context/index.js';
import { TsbuildError } from '../../errors.js';
import { digestOf, type FileAction, type FileOp, type Vertex } from '../graph.js';
import type { OpContext, OpImpl, OpResult } from '../scheduler.js';
import { applyChmod } from './chmod.js';
import { resolveChown, resolveUserOwner } from './chown.js';
import { copyInto, ensureDir, type Owner } from './copy-tree.js';
import type { SolvedFs, SolverEnv } from './env.js';
import { fastCopyDir, fastCopyFromDir } from './fast-copy.js';
import { resolveInRoot } from './secure-path.js';
import { activeKey, commitAs, emptyDir, mountView, snapshotName, withMounted } from './snapshots.js';
import { extractArchive, isArchive } from './unpack.js';

/** COPY/ADD/WORKDIR on a prepared snapshot, mounted so paths resolve through the merged rootfs. */
export function fileOp(env: SolverEnv): OpImpl {
  return {
    async cacheKey(v, inputKeys) {
      const op = v.op as FileOp;
      const checksums: string[] = [];
      for (const a of op.actions) {
        if (a.type === 'copy' && a.fromContext) {
          const snap = await env.context();
          checksums.push(checksumSelection(selectSources(snap, a.sources, { excludes: a.excludes })));
        }
      }
      return digestOf({ op, inputKeys, checksums });
    },
    async exec(v, inputs, ctx) {
      const op = v.op as FileOp;
      const base = op.scratchBase ? undefined : (inputs[0] as OpResult & SolvedFs);
      const active = activeKey();
      const mounts = await env.store.snapshots.prepare(active, base?.snapshot);
      // One read-only view per source input for the whole op (COPY --from=x a b c mounts x once).
      const cleanups: (() => Promise<void>)[] = [];
      const views = new Map<number, Promise<string>>();
      const viewOf = (i: number) => {
        let v = views.get(i);
        if (!v) {
          const src = i >= 0 ? (inputs[i] as OpResult & SolvedFs) : undefined;
          v = src?.snapshot ? mountView(env, src.snapshot, cleanups) : emptyDir(env, cleanups);
          views.set(i, v);
        }
        return v;
      };
      // Source views are mounted while the destination is (each mount is a mount(8) run).
      for (const a of op.actions)
        if (a.type === 'copy' && !a.fromContext) viewOf(a.input).catch(() => undefined);
      try {
        await withMounted(env.store, mounts, async (root) => {
          for (const a of op.actions) await runAction(env, a, root, viewOf, ctx);
        });
      } catch (e) {
        await env.store.snapshots.remove(active).catch(() => undefined);
        throw e;
      } finally {
        // A view still being mounted registers its cleanup when it is up: wait for it first.
        await Promise.allSettled(views.values());
        for (const c of cleanups.reverse()) await c().catch(() => undefined);
      }
      // Leased before commitAs looks for an equal snapshot to reuse: a concurrent prune keeps it.
      await env.retain(snapshotName(ctx.key));
      const name = await commitAs(env.store, active, snapshotName(ctx.key));
      const result: SolvedFs = { snapshot: name, layers: [...(base?.layers ?? []), { snapshot: name }] };
      return result;
    },
  };
}

async function runAction(
  env: SolverEnv,
  a: FileAction,
  root: string,
  viewOf: (input: number) => Promise<string>,
  ctx: OpContext,
): Promise<void> {
  ctx.signal.throwIfAborted();
  if (a.type === 'mkdir') {
    const owner = a.user ? resolveUserOwner(root, a.user) : { uid: 0, gid: 0 };
    ensureDir(root, a.path, { owner });
    return;
  }
  const owner: Owner | undefined = a.chown ? resolveChown(root, a.chown) : undefined;
  if (a.type === 'inline') {
    const destIsDir = a.dest.endsWith('/') || isDir(resolveInRoot(root, a.dest));
    const target = destIsDir ? posix.join(a.dest, a.name) : a.dest;
    ensureDir(root, posix.dirname(target), owner ? { owner } : {});
    const host = resolveInRoot(root, target, false);
    writeFileSync(host, a.data);
    chmodSync(host, a.chmod ? applyChmod(a.chmod, 0o644, false) : 0o644);
    lchownSync(host, owner?.uid ?? 0, owner?.gid ?? 0);
    return;
  }
  const excludes = a.excludes.length > 0 ? new PatternMatcher(a.excludes) : undefined;
  const base = {
    preserveOwner: !a.fromContext,
    ...(owner ? { owner } : {}),
    ...(a.chmod ? { chmod: a.chmod } : {}),
  };
  if (a.fromContext) {
    const snap = await env.context();
    if (a.parents) {
      copyWithParents(a, snap, root, base);
      return;
    }
    const sel = selectSources(snap, a.sources, { excludes: a.excludes });
    const forceDir = sel.length > 1;
    for (const s of sel) {
      const host = join(snap.dir, s.path);
      if (a.unpack && s.entry?.type === 'file' && (await isArchive(host))) {
        await extractArchive(host, root, a.dest, owner);
        continue;
      }
      const fast = await fastCopyDir(s, host, root, a.dest, {
        ignorePatterns: snap.excludes.length,
        excludes: a.excludes.length,
        owner: owner !== undefined,
        chmod: a.chmod !== undefined,
      });
      if (fast) continue;
      const children = s.entries
        .filter((e) => e.path !== s.path)
        .map((e) => (s.path === '' ? e.path : e.path.slice(s.path.length + 1)));
      copyInto(host, children, root, a.dest, forceDir, base);
    }
    return;
  }
  const srcRoot = await viewOf(a.input);
  for (const source of a.sources) {
    const matches = hasWildcard(source)
      ? globInRoot(srcRoot, source)
      : [resolveInRoot(srcRoot, source, true)];
    if (matches.length === 0 || !matches.every(exists)) {
      throw new TsbuildError(
        'COPY_SOURCE_NOT_FOUND',
        `failed to compute cache key: "${posix.normalize(`/${source}`)}": not found`,
      );
    }
    for (const m of matches) {
      if (a.unpack && lstatSync(m).isFile() && (await isArchive(m))) {
        await extractArchive(m, root, a.dest, owner);
        continue;
      }
      const fast = await fastCopyFromDir(m, root, a.dest, {
        sources: matches.length,
        excludes: a.excludes.length,
        owner: owner !== undefined,
        chmod: a.chmod !== undefined,
      });
      if (fast) continue;
      copyInto(m, undefined, root, a.dest, matches.length > 1, {
        ...base,
        ...(excludes ? { excludes } : {}),
      });
    }
  }
}

/**
 * COPY --parents: each matched path keeps its directories below the pivot (the part before `/./`,
 * else the context root) under the destination, as BuildKit's IncludePatterns copy does.
 */
function copyWithParents(
  a: Extract<FileAction, { type: 'copy' }>,
  snap: Awaited<ReturnType<SolverEnv['context']>>,
  root: string,
  opts: Parameters<typeof copyInto>[5],
): void {
  for (const src of a.sources) {
    const cut = src.indexOf('/./');
    const pivot = cut >= 0 ? contextPath(src.slice(0, cut)) : '';
    const pattern = cut >= 0 ? src.slice(cut + 3) : src;
    const full = pivot ? `${pivot}/${pattern}` : pattern;
    for (const s of selectSources(snap, [full], { excludes: a.excludes })) {
      const rel = pivot && s.path.startsWith(`${pivot}/`) ? s.path.slice(pivot.length + 1) : s.path;
      const host = join(snap.dir, s.path);
      const target = posix.join(a.dest.endsWith('/') ? a.dest : `${a.dest}/`, rel);
      if (s.entry?.type === 'dir' || s.path === '') {
        const children = s.entries
          .filter((e) => e.path !== s.path)
          .map((e) => (s.path === '' ? e.path : e.path.slice(s.path.length + 1)));
        copyInto(host, children, root, `${target}/`, true, opts);
      } else copyInto(host, undefined, root, target, false, opts);
    }
  }
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Wildcard sources inside a rootfs: each component matched with Go's path.Match rules. */
function globInRoot(root: string, pattern: string): string[] {
  const parts = pattern.split('/').filter((p) => p !== '' && p !== '.');
  let cur = ['/'];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of cur) {
      if (!hasWildcard(part)) {
        next.push(posix.join(dir, part));
        continue;
      }
      const re = globToRegExp(part);
      let names: string[] = [];
      try {
        names = readdirSync(resolveInRoot(root, dir, true)).sort();
      } catch {
        names = [];
      }
      for (const n of names) if (re.test(n)) next.push(posix.join(dir, n));
    }
    cur = next;
  }
  return cur.map((p) => resolveInRoot(root, p, true)).filter(exists);
}

export type { Vertex };
