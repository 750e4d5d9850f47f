import { createHash } from 'node:crypto';
import { TsbuildError } from '../../errors.js';
import type { Digest } from '../../oci/index.js';
import type { PullResult } from '../../registry/index.js';
import { applyLayer, type Store } from '../../store/index.js';
import { prewarmExtractWorker } from '../../store/layer/extract-worker.js';
import type { GrowingBlob } from '../../store/layer/types.js';
import { digestOf, type ImageOp } from '../graph.js';
import { pendingPull } from '../resolve-image.js';
import type { OpImpl } from '../scheduler.js';
import type { SolvedFs, SolverEnv } from './env.js';

/** FROM image: the pulled layers applied as a snapshot chain (each layer once per store). */
export function imageOp(env: SolverEnv): OpImpl {
  return {
    async cacheKey(v) {
      const op = v.op as ImageOp;
      // A pull still landing its layers: a cache hit must not reference blobs not yet in the store.
      const pending = pendingPull(env.images.get(op.ref));
      if (pending) await pending.layers;
      return digestOf({ image: op.ref, platform: op.platform });
    },
    async exec(v, _inputs, ctx) {
      const op = v.op as ImageOp;
      const pulled = env.images.get(op.ref);
      if (!pulled) throw new TsbuildError('IMAGE_NOT_RESOLVED', `image ${op.ref} was not resolved`);
      const pending = pendingPull(pulled);
      if (pending) {
        await pending.downloaded;
        // Its failure (a race, a cancelled build) is redone, and reported, by the walk below.
        await pending.applied.catch(() => {});
      }
      const diffIds = pulled.config.rootfs.diff_ids as Digest[];
      const parent = await applyImageLayers(env.store, pulled, { signal: ctx.signal, retain: env.retain });
      const result: SolvedFs = {
        ...(parent ? { snapshot: parent } : {}),
        layers: pulled.manifest.layers.map((l, i) => ({ blob: l, diffId: diffIds[i] as Digest })),
      };
      return result;
    },
  };
}

/**
 * Applies an image's layers as a snapshot chain and returns the top's name. `ready(i)` waits for layer
 * i's blob (a pull in flight); `retain` leases each chain ID before it is looked at.
 */
export async function applyImageLayers(
  store: Store,
  pulled: PullResult,
  opts: {
    signal: AbortSignal;
    retain?: (s: string) => Promise<void>;
    ready?: (i: number) => Promise<void>;
    /** Extract in a worker thread (a background unpack beside the build's main-thread work). */
    offThread?: boolean;
    /** Layer i's bytes as they download: its worker unpacks them as they land. */
    growing?: (i: number) => GrowingBlob;
  },
): Promise<string | undefined> {
  let parent: string | undefined;
  const diffIds = pulled.config.rootfs.diff_ids as Digest[];
  for (const [i, l] of pulled.manifest.layers.entries()) {
    opts.signal.throwIfAborted();
    const diffId = diffIds[i] as Digest;
    // Snapshots are named by chain ID (containerd's rule): a layer already applied is reused
    // without reading its blob; two builds applying it at once race to the same name.
    const chainId = parent
      ? `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`
      : diffId;
    // Leased before it is looked at, so a concurrent prune cannot take it once seen (see gc).
    await opts.retain?.(chainId);
    if ((await store.snapshots.tryStat(chainId))?.kind === 'committed') {
      parent = chainId;
      continue;
    }
    const ready = opts.ready?.(i);
    const growing = opts.growing?.(i);
    try {
      const applying = applyLayer(store, l.digest as Digest, parent, {
        ...(opts.offThread ? { offThread: true } : {}),
        ...(ready ? { ready } : {}),
        ...(growing ? { growing } : {}),
        mediaType: l.mediaType,
        expectedDigest: l.digest as Digest,
        expectedDiffId: diffId,
      });
      // applyLayer took the spare worker synchronously: the next layer's boots during this one.
      if (opts.offThread && i + 1 < pulled.manifest.layers.length) prewarmExtractWorker();
      parent = (await applying).snapshot;
    } catch (e) {
      if ((await store.snapshots.tryStat(chainId))?.kind !== 'committed') throw e;
      parent = chainId;
    }
  }
  if (parent) await opts.retain?.(parent);
  return parent;
}
