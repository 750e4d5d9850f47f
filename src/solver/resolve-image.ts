import { firstLine } from '../errors.js';
import { findImage, loadImage, recordImage } from '../exporter/index.js';
import type { ImageConfig } from '../oci/index.js';
import {
  type Digest,
  formatPlatform,
  formatReference,
  type Platform,
  parseReference,
  platformMatches,
  withDigest,
} from '../oci/index.js';
import type { ProgressSink } from '../progress/events.js';
import { type PullResult, type RegistryClient, startPull } from '../registry/index.js';
import type { Store } from '../store/index.js';
import { prewarmExtractWorker } from '../store/layer/extract-worker.js';
import { bytesProgress } from './bytes-progress.js';
import type { ResolvedImage } from './frontend/convert.js';
import { importOciLayout, isOciLayoutRef } from './oci-layout-context.js';
import { applyImageLayers } from './ops/image-op.js';
import { lockPull } from './pull-lock.js';

/** A pull that went on after its image was resolved (see `resolveOnce`). */
export interface PendingPull {
  /** Every layer blob is in the store (what a cache hit on the FROM step needs for its export). */
  layers: Promise<unknown>;
  /** Every blob, the manifest and the local tag are in the store. */
  downloaded: Promise<unknown>;
  /** The layers unpacked as snapshots while the build went on (the FROM step redoes what failed). */
  applied: Promise<unknown>;
  /** All of the above settled and the pull lock released: a build waits for it before it ends. */
  settled?: Promise<unknown>;
}

const pending = new WeakMap<PullResult, PendingPull>();

export function pendingPull(result: PullResult | undefined): PendingPull | undefined {
  return result && pending.get(result);
}

/**
 * The frontend's image resolver: an image already in the local store (tagged by an earlier pull,
 * build or `tsbuild pull`) is used from there, as the Docker daemon's BuildKit does; otherwise, or
 * with `pull`, it is pulled through the registry client (blobs in the store are not downloaded again)
 * and recorded under its reference.
 */
export function imageResolver(
  store: Store,
  client: RegistryClient,
  images: Map<string, PullResult>,
  progress: ProgressSink,
  signal: AbortSignal,
  opts: { pull?: boolean } = {},
): (ref: string, platform: Platform) => Promise<ResolvedImage> {
  const memo = new Map<string, Promise<ResolvedImage>>();
  return (ref, platform) => {
    const k = `${ref}|${formatPlatform(platform)}`;
    let p = memo.get(k);
    if (!p) {
      p = isOciLayoutRef(ref)
        ? resolveLayout(store, images, progress, ref, platform)
        : resolveOnce(store, client, images, progress, signal, ref, platform, opts);
      memo.set(k, p);
    }
    return p;
  };
}

async function resolveOnce(
  store: Store,
  client: RegistryClient,
  images: Map<string, PullResult>,
  progress: ProgressSink,
  signal: AbortSignal,
  ref: string,
  platform: Platform,
  opts: { pull?: boolean },
): Promise<ResolvedImage> {
  const parsed = parseReference(ref);
  const id = `load-${formatReference(parsed)}`;
  return metadataStep(progress, id, formatReference(parsed), async () => {
    let result: PullResult | undefined;
    // Like `docker build`: a base image already in the local store is used as it is (no registry
    // round trip, works offline); `--pull` always asks the registry.
    if (!opts.pull) result = await fromLocal(store, ref, platform);
    if (!result) {
      const waiting = (pid: string) =>
        progress.emit({
          type: 'log',
          id,
          stream: 'stderr',
          data: `waiting for another build (pid ${pid || '?'}) pulling ${formatReference(parsed)}\n`,
          at: Date.now(),
        });
      result = await pullLocked(
        { store, client, progress, signal, vertex: id },
        parsed,
        platform,
        opts,
        waiting,
      );
    }
    // Pinned to the platform manifest either way, so a pulled and a local resolution key alike.
    const pinned = formatReference(withDigest(parsed, result.manifestDescriptor.digest));
    images.set(pinned, result);
    return { ref: pinned, config: result.config as ImageConfig };
  });
}

/** An image from an OCI layout (`--build-context NAME=oci-layout://…`): copied in, never pulled. */
function resolveLayout(
  store: Store,
  images: Map<string, PullResult>,
  progress: ProgressSink,
  ref: string,
  platform: Platform,
): Promise<ResolvedImage> {
  return metadataStep(progress, `load-${ref}`, ref, async () => {
    const { pinned, result } = await importOciLayout(store, ref, platform);
    images.set(pinned, result);
    return { ref: pinned, config: result.config as ImageConfig };
  });
}

/** `[internal] load metadata for REF`: the progress step around an image's resolution. */
async function metadataStep<T>(
  progress: ProgressSink,
  id: string,
  ref: string,
  fn: () => Promise<T>,
): Promise<T> {
  const name = `[internal] load metadata for ${ref}`;
  progress.emit({ type: 'vertex', id, name, status: 'started', at: Date.now() });
  try {
    const out = await fn();
    progress.emit({ type: 'vertex', id, name, status: 'done', at: Date.now() });
    return out;
  } catch (e) {
    progress.emit({ type: 'vertex', id, name, status: 'error', error: firstLine(e), at: Date.now() });
    throw e;
  }
}

/** What a pull works with. */
interface PullContext {
  store: Store;
  client: RegistryClient;
  progress: ProgressSink;
  signal: AbortSignal;
  /** The `load metadata` step its transfers are shown under. */
  vertex: string;
}

/**
 * Pulls under the store's pull lock for this reference: a build that waited for another process's
 * pull of it takes the image from the store (unless `--pull`); blobs and snapshots that pull left
 * are not fetched or unpacked again either way. The lock is held until the layers are unpacked.
 */
async function pullLocked(
  pull: PullContext,
  parsed: ReturnType<typeof parseReference>,
  platform: Platform,
  opts: { pull?: boolean },
  onWait: (holder: string) => void,
): Promise<PullResult> {
  const { store, signal } = pull;
  const key = `${formatReference(parsed)} ${formatPlatform(platform)}`;
  const lock = await lockPull(store, key, signal, onWait);
  try {
    const local =
      lock.waited && !opts.pull ? await fromLocal(store, formatReference(parsed), platform) : undefined;
    if (local) {
      lock.release();
      return local;
    }
    const result = await pullInBackground(pull, parsed, platform);
    const p = pendingPull(result)!;
    p.settled = Promise.allSettled([p.downloaded, p.applied]).then(lock.release);
    return result;
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** Compressed bytes of an image's layers above which a pull unpacks them in a worker as they land. */
const OFF_THREAD_BYTES = 4 << 20;

/**
 * Resolves as soon as manifest and config are known: the frontend needs no more. The layers go on
 * downloading, and each is unpacked as a snapshot the moment it lands, while the build converts the
 * Dockerfile and scans its context; the FROM step waits for what is still missing (`pendingPull`).
 */
async function pullInBackground(
  { store, client, progress, signal, vertex }: PullContext,
  parsed: ReturnType<typeof parseReference>,
  platform: Platform,
): Promise<PullResult> {
  const h = await startPull(client, store, parsed, {
    platform,
    signal,
    onProgress: bytesProgress(progress, vertex),
  });
  const result = h.result;
  // A worker unpacks a big image as it downloads; a small one is unpacked here once it is in: a
  // worker's boot (~50 ms of a core) costs more than the overlap saves (measured: a 1 MB busybox
  // base's FROM done ~45 ms sooner, and the whole cold build with it).
  const offThread = result.manifest.layers.reduce((n, l) => n + l.size, 0) > OFF_THREAD_BYTES;
  if (offThread) prewarmExtractWorker();
  // Recorded like `tsbuild pull` does, so the next build finds it locally.
  const downloaded = h.done.then(() =>
    recordImage(store, formatReference(parsed), result.index?.descriptor ?? result.manifestDescriptor, {
      pulled: true,
    }),
  );
  const applied = applyImageLayers(store, result, {
    signal,
    offThread,
    ready: (i) => h.layers[i]!,
    growing: (i) => h.feeds[i]!,
  });
  // Awaited by the FROM step; a build that fails before it must not die of an unhandled rejection.
  downloaded.catch(() => {});
  applied.catch(() => {});
  const layers = Promise.all(h.layers);
  layers.catch(() => {});
  pending.set(result, { layers, downloaded, applied });
  return result;
}

async function fromLocal(store: Store, ref: string, platform: Platform): Promise<PullResult | undefined> {
  let found: Awaited<ReturnType<typeof findImage>>;
  try {
    found = await findImage(store, ref);
  } catch {
    return undefined;
  }
  let img: Awaited<ReturnType<typeof loadImage>>;
  try {
    img = await loadImage(store, found.descriptor, platform);
  } catch {
    // The tag names an index pulled for another platform: this one's manifest or config was never
    // fetched. The registry has it (BuildKit pulls it).
    return undefined;
  }
  // A single-platform image of another OS or architecture is not this one's (dockerd pulls the right
  // one); the variant is not compared, as a config often lacks it.
  const { os, architecture } = img.config;
  if (
    !img.index &&
    os &&
    architecture &&
    !platformMatches({ ...platform, variant: undefined }, { os, architecture })
  )
    return undefined;
  return {
    ref: withDigest(parseReference(ref), img.descriptor.digest),
    manifestDescriptor: img.descriptor,
    manifest: img.manifest,
    config: img.config,
    configDigest: img.manifest.config.digest as Digest,
    ...(img.index ? { index: img.index } : {}),
  };
}
