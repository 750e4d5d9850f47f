import { checksumSelection, readDockerignore, scanContext, selectSources } from '../../context/index.js';
import { digestOf, type LocalContextOp } from '../graph.js';
import type { OpImpl } from '../scheduler.js';
import { copyInto } from './copy-tree.js';
import type { SolvedFs, SolverEnv } from './env.js';
import { sourceSnapshot } from './snapshots.js';

/**
 * `--build-context name=DIR`: the directory as buildx sends a named local context, filtered by its
 * own `.dockerignore`, owners reset to 0:0, keyed by its content checksum (names, content, modes,
 * link targets; never mtimes), so an unchanged directory keeps every step on it cached. Scanned once
 * per build; the snapshot is the tree `FROM name` starts from and `COPY --from=name` reads.
 */
export function localContextOp(env: SolverEnv): OpImpl {
  const scans = new Map<string, ReturnType<typeof scan>>();
  const scanOnce = (op: LocalContextOp, signal: AbortSignal) => {
    let p = scans.get(op.dir);
    if (!p) {
      p = scan(env, op.dir, signal);
      scans.set(op.dir, p);
    }
    return p;
  };
  return {
    async cacheKey(v, _inputKeys, ctx) {
      const { checksum } = await scanOnce(v.op as LocalContextOp, ctx.signal);
      return digestOf({ localContext: checksum });
    },
    async exec(v, _inputs, ctx) {
      const op = v.op as LocalContextOp;
      const { children } = await scanOnce(op, ctx.signal);
      const result: SolvedFs = await sourceSnapshot(env, ctx, (dir) =>
        copyInto(op.dir, children, dir, '/', true, { preserveOwner: false, socketsAsFiles: true }),
      );
      return result;
    },
  };
}

async function scan(env: SolverEnv, dir: string, signal: AbortSignal) {
  const excludes = await readDockerignore(dir, undefined);
  const snap = await scanContext({ dir, excludes, root: env.store.root, signal });
  const selected = selectSources(snap, ['/']);
  const children = selected.flatMap((s) => s.entries.filter((e) => e.path !== '').map((e) => e.path));
  return { checksum: checksumSelection(selected), children };
}
