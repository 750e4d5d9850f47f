import { rm } from 'node:fs/promises';
import { TsbuildError } from '../../errors.js';
import type { Digest } from '../../oci/index.js';
import type { PullResult } from '../../registry/index.js';
import { limiter } from '../../registry/limit.js';
import { applyLayer, type Store } from '../../store/index.js';
import { chainIdOf, commitUnpacked, type UnpackedLayer, unpackLayer } from '../../store/layer/apply-layer.js';
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

/** How `applyImageLayers` gets and unpacks the layers. */
interface ApplyImageOptions {
  signal: AbortSignal;
  retain?: (s: string) => Promise<void>;
  ready?: (i: number) => Promise<void>;
  /** Extract in worker threads (a background unpack beside the build's main-thread work). */
  offThread?: boolean;
  /** Layer i's bytes as they download: its worker unpacks them as they land. */
  growing?: (i: number) => GrowingBlob;
}

/** Layers unpacked at once, ahead of their parents' commits (overlay diffs do not depend on them). */
const UNPACK_AHEAD = 2;

/**
 * Applies an image's layers as a snapshot chain and returns the top's name. `ready(i)` waits for layer
 * i's blob (a pull in flight); `retain` leases each chain ID before it is looked at. Off-thread on
 * the overlay snapshotter, the missing layers unpack two at a time into dirs of their own and are
 * committed in order; otherwise each is extracted onto its committed parent in turn.
 */
export async function applyImageLayers(
  store: Store,
  pulled: PullResult,
  opts: ApplyImageOptions,
): Promise<string | undefined> {
  const diffIds = pulled.config.rootfs.diff_ids as Digest[];
  // Snapshots are named by chain ID (containerd's rule): a layer already applied is reused
  // without reading its blob; two builds applying it at once race to the same name.
  const chainIds = chainIdsOf(diffIds);
  // Leased before they are looked at, so a concurrent prune cannot take one once seen (see gc).
  for (const c of chainIds) await opts.retain?.(c);
  const have = await Promise.all(
    chainIds.map(async (c) => (await store.snapshots.tryStat(c))?.kind === 'committed'),
  );
  // One missing layer gains nothing from it, and its snapshot is better prepared during the download.
  const ahead =
    opts.offThread && store.snapshots.kind === 'overlay' && have.filter((h) => !h).length > 1
      ? unpackAhead(store, pulled, have, opts)
      : undefined;
  let parent: string | undefined;
  try {
    for (const [i, l] of pulled.manifest.layers.entries()) {
      opts.signal.throwIfAborted();
      const chainId = chainIds[i]!;
      if (have[i]) {
        parent = chainId;
        continue;
      }
      try {
        const unpacked = ahead?.take(i);
        parent = unpacked
          ? (await commitUnpacked(store, await unpacked, parent)).snapshot
          : (await applyLayer(store, l.digest as Digest, parent, layerOptions(pulled, i, opts))).snapshot;
      } catch (e) {
        if ((await store.snapshots.tryStat(chainId))?.kind !== 'committed') throw e;
        parent = chainId;
      }
    }
  } finally {
    await ahead?.discard();
  }
  if (parent) await opts.retain?.(parent);
  return parent;
}

/** The chain IDs of an image's layers, bottom first. */
function chainIdsOf(diffIds: Digest[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(chainIdOf(out.at(-1), d));
  return out;
}

function layerOptions(pulled: PullResult, i: number, opts: ApplyImageOptions) {
  const l = pulled.manifest.layers[i]!;
  const ready = opts.ready?.(i);
  const growing = opts.growing?.(i);
  return {
    ...(opts.offThread ? { offThread: true } : {}),
    ...(ready ? { ready } : {}),
    ...(growing ? { growing } : {}),
    mediaType: l.mediaType,
    expectedDigest: l.digest as Digest,
    expectedDiffId: pulled.config.rootfs.diff_ids[i] as Digest,
  };
}

/**
 * Starts unpacking every missing layer, UNPACK_AHEAD at a time in layer order. `take(i)` hands
 * layer i's unpack to the committer; `discard` waits for the ones never taken (after a failure)
 * and removes their dirs, and stops those not yet started.
 */
function unpackAhead(store: Store, pulled: PullResult, have: boolean[], opts: ApplyImageOptions) {
  const gate = limiter(UNPACK_AHEAD);
  let stopped = false;
  const pending = new Map<number, Promise<UnpackedLayer>>();
  const missing = have.flatMap((h, i) => (h ? [] : [i]));
  for (const [k, i] of missing.entries()) {
    const p = gate(async () => {
      if (stopped) throw new Error('not needed');
      const unpacking = unpackLayer(
        store,
        pulled.manifest.layers[i]!.digest as Digest,
        layerOptions(pulled, i, opts),
      );
      // It took the spare worker synchronously: the next layer's boots during this one.
      if (k + 1 < missing.length) prewarmExtractWorker();
      return unpacking;
    });
    p.catch(() => {});
    pending.set(i, p);
  }
  return {
    take(i: number): Promise<UnpackedLayer> | undefined {
      const p = pending.get(i);
      pending.delete(i);
      return p;
    },
    async discard(): Promise<void> {
      stopped = true;
      const left = [...pending.values()];
      pending.clear();
      for (const r of await Promise.allSettled(left))
        if (r.status === 'fulfilled') await rm(r.value.dir, { recursive: true, force: true });
    },
  };
}
