import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MergeOp } from '../graph.js';
import { digestOf } from '../graph.js';
import type { OpImpl, OpResult } from '../scheduler.js';
import type { SolvedFs, SolverEnv } from './env.js';
import { activeKey, commitStep } from './snapshots.js';

const run = promisify(execFile);

/**
 * COPY --link (BuildKit's MergeOp): inputs[0] is the stage so far, inputs[1] the COPY made on
 * scratch, whose cache key and layer do not depend on the stage. The result's layers are the stage's
 * plus the COPY's own, so a changed base keeps the COPY cached and its layer blob the same (BuildKit's
 * "rebasing"). For the steps after it, a snapshot on top of the stage holds the COPY's files as hard
 * links (`cp -al`: directories are made with their mode, owner, times and xattrs, files and
 * symlinks are linked). That is safe because committed snapshots are never written in place, and a
 * tar hardlink is only ever made within one layer, so the links never reach an image.
 */
export function mergeOp(env: SolverEnv): OpImpl {
  return {
    async cacheKey(v, inputKeys) {
      return digestOf({ op: v.op as MergeOp, inputKeys });
    },
    async exec(_v, inputs, ctx) {
      const base = inputs[0] as OpResult & SolvedFs;
      const top = inputs[1] as OpResult & SolvedFs;
      if (!top.snapshot) return { ...base, layers: [...base.layers, ...top.layers] };
      const snaps = env.store.snapshots;
      const active = activeKey();
      await snaps.prepare(active, base.snapshot);
      try {
        await run('cp', ['-a', '--link', `${snaps.diffDir(top.snapshot)}/.`, snaps.diffDir(active)], {
          maxBuffer: 1 << 20,
          signal: ctx.signal,
        });
        const name = await commitStep(env, active, ctx);
        const result: SolvedFs = { snapshot: name, layers: [...base.layers, ...top.layers] };
        return result;
      } catch (e) {
        await snaps.remove(active).catch(() => undefined);
        throw e;
      }
    },
  };
}
