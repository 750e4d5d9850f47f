import { TsbuildError } from '../errors.js';
import {
  type Descriptor,
  type Digest,
  encodeJson,
  type HistoryEntry,
  type ImageConfig,
  type ImageManifest,
  layerCompression,
  layerMediaType,
  MediaType,
  sha256Digest,
} from '../oci/index.js';
import { chain, compressStream, createLayer, decompressStream, type Store } from '../store/index.js';
import { lookupCompressed, rememberCompressed } from './compressed-memo.js';
import type { CommitOptions, CommittedImage, ImageLayer, ImageModel } from './types.js';

/** The media type a stored layer gets in the requested flavour (Docker or OCI), same bytes. */
function retype(mediaType: string, oci: boolean): string {
  const c = layerCompression(mediaType);
  return c === undefined ? mediaType : layerMediaType(c, oci);
}

/**
 * A layer already stored as a blob, kept as is unless its codec must change: always when
 * `forceCompression`, and for uncompressed blobs when `compressUncompressed` (an image leaving the
 * machine). Re-compressed blobs are remembered per source blob and codec.
 */
async function blobLayer(
  store: Store,
  layer: { blob: Descriptor; diffId: Digest },
  opts: CommitOptions,
  oci: boolean,
): Promise<Descriptor> {
  const have = layerCompression(layer.blob.mediaType);
  const want = opts.compression ?? 'gzip';
  const convert =
    have !== undefined &&
    have !== want &&
    (opts.forceCompression || (opts.compressUncompressed && have === 'uncompressed'));
  if (!convert) {
    return { mediaType: retype(layer.blob.mediaType, oci), digest: layer.blob.digest, size: layer.blob.size };
  }
  const memo = await lookupCompressed(store, layer.blob.digest, want, opts.level);
  if (memo) return { mediaType: layerMediaType(want, oci), ...memo };
  // Verified: a damaged blob must not become a new, validly hashed blob the registry accepts.
  const src = await store.content.read(layer.blob.digest, { verify: true });
  let stream = have === 'uncompressed' ? src : chain(src, decompressStream(have));
  if (want !== 'uncompressed') {
    stream = chain(stream, compressStream(want, opts.level === undefined ? {} : { level: opts.level }));
  }
  const ref = await store.content.ingest(stream);
  await rememberCompressed(store, layer.blob.digest, want, opts.level, ref);
  return { mediaType: layerMediaType(want, oci), digest: ref.digest, size: ref.size };
}

async function layerDescriptor(
  store: Store,
  layer: ImageLayer,
  opts: CommitOptions,
  oci: boolean,
): Promise<{ desc: Descriptor; diffId: Digest }> {
  if ('blob' in layer) return { desc: await blobLayer(store, layer, opts, oci), diffId: layer.diffId };
  const c = await createLayer(store, layer.snapshot, {
    compression: opts.compression ?? 'gzip',
    ...(opts.level !== undefined ? { level: opts.level } : {}),
    ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
    docker: !oci,
  });
  // A diffID known ahead (the layer made beside the solve) is the unclamped tar's: a rewrite differs.
  if (layer.diffId && opts.sourceDateEpoch === undefined && layer.diffId !== c.diffId) {
    throw new TsbuildError(
      'DIFFID_MISMATCH',
      `layer of snapshot ${layer.snapshot} has diffID ${c.diffId}, expected ${layer.diffId}`,
    );
  }
  return { desc: { mediaType: retype(c.mediaType, oci), digest: c.digest, size: c.size }, diffId: c.diffId };
}

/**
 * Layers made at once. A layer's tar walk is synchronous, so two walks only interleave, but the rest
 * of a layer (getfattr, compression in the gzip workers, the blob's fsync, the meta record) overlaps
 * the next layer's walk; an image's small layers then cost almost nothing next to its big one.
 */
const LAYER_CONCURRENCY = 3;

/** `fn` over `items` with at most `limit` running; results in input order. */
async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (e) {
        next = items.length; // no new layers once one has failed
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * History with exactly one non-empty entry per layer (as the image spec requires), made as BuildKit's
 * exporter makes it (normalizeLayersAndHistory): a base whose history names more layers than it has
 * gets its entries past the last layer marked empty; missing entries are added at the end.
 */
function fitHistory(history: HistoryEntry[] | undefined, layers: number): HistoryEntry[] {
  const h = history ? history.map((e) => ({ ...e })) : [];
  let nonEmpty = 0;
  for (const e of h) {
    if (nonEmpty >= layers) e.empty_layer = true;
    if (!e.empty_layer) nonEmpty++;
  }
  for (let i = nonEmpty; i < layers; i++)
    h.push({ created_by: 'tsbuild', comment: 'buildkit.exporter.image.v0' });
  return h;
}

/**
 * Turns an image model into content: layer blobs (compressed once per codec and remembered by the
 * store), the config (rootfs.diff_ids + history) and the manifest; returns the manifest descriptor.
 */
export async function commitImage(
  store: Store,
  image: ImageModel,
  opts: CommitOptions = {},
): Promise<CommittedImage> {
  const oci = opts.ociMediaTypes ?? true;
  const made = await inParallel(image.layers, LAYER_CONCURRENCY, (l) => layerDescriptor(store, l, opts, oci));
  const layers = made.map((m) => m.desc);
  const diffIds = made.map((m) => m.diffId);
  const { rootfs: _r, history: _h, ...rest } = image.config;
  const config: ImageConfig = {
    ...rest,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: fitHistory(image.history ?? image.config.history, layers.length),
  };
  const configBytes = encodeJson(config);
  const configDescriptor: Descriptor = {
    mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: oci ? MediaType.ociManifest : MediaType.dockerManifest,
    config: configDescriptor,
    layers,
    ...(image.annotations && oci ? { annotations: image.annotations } : {}),
  };
  const bytes = encodeJson(manifest);
  const descriptor: Descriptor = {
    mediaType: manifest.mediaType!,
    digest: sha256Digest(bytes),
    size: bytes.length,
  };
  // Two independent blobs, each atomic on its own: their fsyncs overlap. What names them (a tag, an
  // index) is written only after both are in.
  await Promise.all([
    store.content.ingest(configBytes, { digest: configDescriptor.digest, size: configDescriptor.size }),
    store.content.ingest(bytes, { digest: descriptor.digest, size: descriptor.size }),
  ]);
  return { descriptor, manifest, config, configDescriptor };
}

/**
 * The same image with OCI or Docker media types and, when `opts` asks, re-compressed blob layers:
 * the config bytes are untouched (diffIDs do not depend on compression), so the image id stays;
 * only the manifest is rewritten.
 */
export async function retypeImage(
  store: Store,
  manifest: ImageManifest,
  diffIds: string[],
  oci: boolean,
  opts: CommitOptions = {},
): Promise<Omit<CommittedImage, 'config'>> {
  const configDescriptor: Descriptor = {
    mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig,
    digest: manifest.config.digest,
    size: manifest.config.size,
  };
  const layers: Descriptor[] = [];
  for (const [i, l] of manifest.layers.entries()) {
    layers.push(await blobLayer(store, { blob: l, diffId: diffIds[i] as Digest }, opts, oci));
  }
  const next: ImageManifest = {
    schemaVersion: 2,
    mediaType: oci ? MediaType.ociManifest : MediaType.dockerManifest,
    config: configDescriptor,
    layers,
    ...(manifest.annotations && oci ? { annotations: manifest.annotations } : {}),
  };
  const bytes = encodeJson(next);
  const descriptor: Descriptor = {
    mediaType: next.mediaType!,
    digest: sha256Digest(bytes),
    size: bytes.length,
  };
  await store.content.ingest(bytes, { digest: descriptor.digest, size: descriptor.size });
  return { descriptor, manifest: next, configDescriptor };
}
