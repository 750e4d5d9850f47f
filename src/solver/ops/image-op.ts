import { createHash } from 'node:crypto';
import { TsbuildError } from '../../errors.js';
import type { Digest } from '../../oci/index.js';
import { applyLayer } from '../../store/index.js';
import { digestOf, type ImageOp } from '../graph.js';
import type { OpImpl } from '../scheduler.js';
import type { SolvedFs, SolverEnv } from './env.js';

/** FROM image: the pulled layers applied as a snapshot chain (each layer once per store). */
export function imageOp(env: SolverEnv): OpImpl {
  return {
    async cacheKey(v) {
      const op = v.op as ImageOp;
      return digestOf({ image: op.ref, platform: op.platform });
    },
    async exec(v, _inputs, ctx) {
      const op = v.op as ImageOp;
      const pulled = env.images.get(op.ref);
      if (!pulled) throw new TsbuildError('IMAGE_NOT_RESOLVED', `image ${op.ref} was not resolved`);
      let parent: string | undefined;
      const diffIds = pulled.config.rootfs.diff_ids as Digest[];
      for (const [i, l] of pulled.manifest.layers.entries()) {
        ctx.signal.throwIfAborted();
        const diffId = diffIds[i] as Digest;
        // Snapshots are named by chain ID (containerd's rule): a layer already applied is reused
        // without reading its blob; two builds applying it at once race to the same name.
        const chainId = parent
          ? `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`
          : diffId;
        // Leased before it is looked at, so a concurrent prune cannot take it once seen (see gc).
        await env.retain(chainId);
        if ((await env.store.snapshots.tryStat(chainId))?.kind === 'committed') {
          parent = chainId;
          continue;
        }
        try {
          const applied = await applyLayer(env.store, l.digest as Digest, parent, {
            mediaType: l.mediaType,
            expectedDigest: l.digest as Digest,
            expectedDiffId: diffId,
          });
          parent = applied.snapshot;
        } catch (e) {
          if ((await env.store.snapshots.tryStat(chainId))?.kind !== 'committed') throw e;
          parent = chainId;
        }
      }
      if (parent) await env.retain(parent);
      const result: SolvedFs = {
        ...(parent ? { snapshot: parent } : {}),
        layers: pulled.manifest.layers.map((l, i) => ({ blob: l, diffId: diffIds[i] as Digest })),
      };
      return result;
    },
  };
}
