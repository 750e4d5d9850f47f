import type { Readable } from 'node:stream';
import { TsbuildError } from '../errors.js';
import {
  type BlobRef,
  type Descriptor,
  type Digest,
  encodeJson,
  formatReference,
  MediaType,
  parseImageConfig,
  parseIndex,
  parseManifestOrIndex,
  parseReference,
} from '../oci/index.js';
import { chain, decompressStream, detectCompression, type LeaseHandle, type Store } from '../store/index.js';
import { type ArchiveBlobs, archiveBlobs, blobAt } from './archive-blobs.js';
import { readDoc, recordImage, recordUntagged } from './image-store.js';

/** One image an archive held: its manifest (or index), and the names it carried. */
export interface LoadedArchiveImage {
  descriptor: Descriptor;
  /** docker's image ID: the config digest (an index's own digest). */
  id: Digest;
  /** The names the archive gives it, in full (`docker.io/library/app:1`); none: `<none>`. */
  names: string[];
}

/** `org.opencontainers.image.ref.name` and containerd's full name, as `docker load` reads them. */
const NAME_KEYS = ['io.containerd.image.name', 'org.opencontainers.image.ref.name'];

/**
 * `docker load`: a docker archive (`manifest.json`: docker save, `-o type=docker`) or an OCI
 * archive (`index.json`: `-o type=oci`, skopeo's oci-archive) into the store, each name tagged, an
 * image without one kept as `<none>`. Every blob is checked (a layout's against its name, a docker
 * archive's layers against the config's diff IDs) and leased before any tag is written: a bad
 * archive leaves no tag and nothing a prune would not take.
 */
export async function loadArchive(store: Store, input: Readable): Promise<LoadedArchiveImage[]> {
  return store.meta.withLease(async (lease) => {
    const a = await archiveBlobs(store, input, lease);
    const images = blobAt(a, 'manifest.json')
      ? await dockerImages(store, a, lease)
      : blobAt(a, 'index.json')
        ? await ociImages(store, a, lease)
        : undefined;
    if (!images)
      throw new TsbuildError('ARCHIVE_INVALID', 'the archive has neither manifest.json nor index.json', {
        hint: 'give a docker archive (docker save) or an OCI archive (skopeo copy … oci-archive:)',
      });
    // Every name is checked before the first tag is written.
    const named = images.map((img) => ({ ...img, names: img.names.map(fullName) }));
    for (const img of named) {
      if (img.names.length === 0) await recordUntagged(store, img.descriptor);
      for (const ref of img.names) await recordImage(store, ref, img.descriptor);
    }
    return named;
  });
}

interface DockerEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

async function dockerImages(
  store: Store,
  a: ArchiveBlobs,
  lease: LeaseHandle,
): Promise<LoadedArchiveImage[]> {
  const doc = JSON.parse(
    (await readDoc(store, blobAt(a, 'manifest.json')!.digest)).toString('utf8'),
  ) as unknown;
  if (!Array.isArray(doc)) throw invalid('manifest.json is not a list');
  const out: LoadedArchiveImage[] = [];
  for (const e of doc as DockerEntry[]) {
    const config = typeof e.Config === 'string' ? blobAt(a, e.Config) : undefined;
    if (!config) throw invalid(`manifest.json names a config the archive does not hold: ${String(e.Config)}`);
    const diffIds = parseImageConfig(await readDoc(store, config.digest)).rootfs.diff_ids as Digest[];
    const files = Array.isArray(e.Layers) ? (e.Layers as unknown[]) : [];
    if (files.length !== diffIds.length)
      throw invalid(`${files.length} layers for the ${diffIds.length} diff IDs of config ${config.digest}`);
    const layers: Descriptor[] = [];
    for (const [i, f] of files.entries()) {
      const blob = typeof f === 'string' ? blobAt(a, f) : undefined;
      if (!blob) throw invalid(`manifest.json names a layer the archive does not hold: ${String(f)}`);
      const layer = await asDiff(store, blob, diffIds[i]!, lease);
      layers.push({ mediaType: MediaType.ociLayer, digest: layer.digest, size: layer.size });
    }
    const manifest = encodeJson({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
      layers,
    });
    const ref = await store.content.ingest(manifest);
    await lease.addBlob(ref.digest);
    const names = Array.isArray(e.RepoTags) ? e.RepoTags.filter((t) => typeof t === 'string') : [];
    out.push({ descriptor: { mediaType: MediaType.ociManifest, ...ref }, id: config.digest, names });
  }
  return out;
}

/**
 * The uncompressed layer whose digest is `diffId`: the blob itself, or what it decompresses to
 * (moby's load takes gzip and zstd layer files too); anything else is refused as moby refuses it.
 */
async function asDiff(store: Store, blob: BlobRef, diffId: Digest, lease: LeaseHandle): Promise<BlobRef> {
  if (blob.digest === diffId) return blob;
  const kind = detectCompression(await store.content.readAt(blob.digest, 0, 4));
  const wrong = () => invalid(`layer ${blob.digest} does not match its diff ID ${diffId}`);
  if (kind === 'uncompressed') throw wrong();
  const unpacked = chain(await store.content.read(blob.digest), decompressStream(kind));
  const ref = await store.content.ingest(unpacked, { digest: diffId }).catch((e: unknown) => {
    throw Object.assign(wrong(), { cause: e });
  });
  await lease.addBlob(ref.digest);
  return ref;
}

async function ociImages(store: Store, a: ArchiveBlobs, lease: LeaseHandle): Promise<LoadedArchiveImage[]> {
  const index = parseIndex(await readDoc(store, blobAt(a, 'index.json')!.digest));
  const out: LoadedArchiveImage[] = [];
  for (const d of index.manifests) {
    const id = await checkComplete(store, d, lease);
    const name = NAME_KEYS.map((k) => d.annotations?.[k]).find((n) => n && isFullName(n));
    out.push({
      descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size },
      id,
      names: name ? [name] : [],
    });
  }
  return out;
}

/**
 * Every blob an entry of index.json reaches is in the store (the archive's, or one the store had),
 * leased; its image ID.
 */
async function checkComplete(store: Store, d: Descriptor, lease: LeaseHandle): Promise<Digest> {
  const parsed = parseManifestOrIndex(await archiveDoc(store, d.digest, 'manifest'), d.mediaType);
  if (parsed.kind === 'index') {
    for (const m of parsed.index.manifests) await checkComplete(store, m, lease);
    return d.digest;
  }
  const { config, layers } = parsed.manifest;
  const diffIds = parseImageConfig(await archiveDoc(store, config.digest, 'config')).rootfs.diff_ids;
  if (diffIds.length !== layers.length)
    throw invalid(`manifest ${d.digest}: layers and diff IDs differ in number`);
  for (const l of layers)
    if (!(await store.content.has(l.digest))) throw invalid(`layer ${l.digest} is not in the archive`);
  for (const b of [d, config, ...layers]) await lease.addBlob(b.digest);
  return config.digest;
}

/** A manifest or config a descriptor names: missing, the archive is incomplete. */
async function archiveDoc(store: Store, digest: Digest, what: string): Promise<Buffer> {
  if (!(await store.content.has(digest))) throw invalid(`${what} ${digest} is not in the archive`);
  return readDoc(store, digest);
}

/** A ref name that is an image reference (`app:1`, `reg/app:1`), not a bare tag such as `latest`. */
function isFullName(n: string): boolean {
  if (!n.includes(':') && !n.includes('/')) return false;
  try {
    parseReference(n);
    return true;
  } catch {
    return false;
  }
}

/** docker's familiar `app:1` as the store keys it (`docker.io/library/app:1`). */
function fullName(n: string): string {
  try {
    return formatReference(parseReference(n));
  } catch (e) {
    throw invalid(`the archive names an image "${n}", which is not a valid reference`, e);
  }
}

function invalid(why: string, cause?: unknown): TsbuildError {
  return new TsbuildError('ARCHIVE_INVALID', `invalid image archive: ${why}`, cause ? { cause } : {});
}
