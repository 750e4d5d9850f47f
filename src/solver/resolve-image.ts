import { findImage, loadImage, recordImage } from '../exporter/index.js';
import type { ImageConfig } from '../oci/index.js';
import {
  type Digest,
  formatPlatform,
  formatReference,
  type Platform,
  parseReference,
  withDigest,
} from '../oci/index.js';
import type { ProgressSink } from '../progress/events.js';
import { type PullResult, pullImage, type RegistryClient } from '../registry/index.js';
import type { Store } from '../store/index.js';
import { bytesProgress } from './bytes-progress.js';
import type { ResolvedImage } from './frontend/convert.js';

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
      p = resolveOnce(store, client, images, progress, signal, ref, platform, opts);
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
  const name = `[internal] load metadata for ${formatReference(parsed)}`;
  progress.emit({ type: 'vertex', id, name, status: 'started', at: Date.now() });
  try {
    let result: PullResult | undefined;
    // Like `docker build`: a base image already in the local store is used as it is (no registry
    // round trip, works offline); `--pull` always asks the registry.
    if (!opts.pull) result = await fromLocal(store, ref, platform);
    if (!result) {
      result = await pullImage(client, store, parsed, {
        platform,
        signal,
        onProgress: bytesProgress(progress),
      });
      // Recorded like `tsbuild pull` does, so the next build finds it locally.
      await recordImage(
        store,
        formatReference(parsed),
        result.index?.descriptor ?? result.manifestDescriptor,
      );
    }
    // Pinned to the platform manifest either way, so a pulled and a local resolution key alike.
    const pinned = formatReference(withDigest(parsed, result.manifestDescriptor.digest));
    images.set(pinned, result);
    progress.emit({ type: 'vertex', id, name, status: 'done', at: Date.now() });
    return { ref: pinned, config: result.config as ImageConfig };
  } catch (e) {
    progress.emit({ type: 'vertex', id, name, status: 'error', at: Date.now() });
    throw e;
  }
}

async function fromLocal(store: Store, ref: string, platform: Platform): Promise<PullResult | undefined> {
  let found: Awaited<ReturnType<typeof findImage>>;
  try {
    found = await findImage(store, ref);
  } catch {
    return undefined;
  }
  const img = await loadImage(store, found.descriptor, platform);
  return {
    ref: withDigest(parseReference(ref), img.descriptor.digest),
    manifestDescriptor: img.descriptor,
    manifest: img.manifest,
    config: img.config,
    configDigest: img.manifest.config.digest as Digest,
    ...(img.index ? { index: img.index } : {}),
  };
}
