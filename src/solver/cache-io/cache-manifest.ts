import { TsbuildError } from '../../errors.js';
import type { ImageLayer } from '../../exporter/index.js';
import {
  type Descriptor,
  type Digest,
  encodeJson,
  isDigest,
  MediaType,
  sha256Digest,
} from '../../oci/index.js';

/**
 * The exported build cache: an OCI manifest whose config is this document and whose layers are the
 * layer blobs the records use (BuildKit's registry and local caches are laid out the same way, with
 * their own config type). A record maps a step's cache key to the layers of its result, bottom
 * first, as indexes into `layers`. Keys are tsbuild's (content digests of the op, its inputs' keys
 * and what it reads), so the same Dockerfile and context on another machine asks for the same keys.
 */
export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.tsbuild.cache.config.v1+json';

/**
 * A record's layer: the image layer it becomes (a blob; `created`, when the step that made it ran,
 * dates its history entry as BuildKit's cache does).
 */
export type CacheLayer = Extract<ImageLayer, { blob: Descriptor }>;

export interface CacheRecord {
  key: string;
  layers: CacheLayer[];
}

export interface CacheConfigDoc {
  tsbuildCache: 1;
  /** diffIds of the manifest's layers, in its order. */
  diffIds: Digest[];
  /** Per layer: when its step ran (ms), or null for a base image's layer. */
  created: (number | null)[];
  records: { key: string; layers: number[] }[];
}

/** Bounds a cache from elsewhere must stay within (a hostile registry must not exhaust memory). */
const MAX_RECORDS = 100_000;
const MAX_LAYERS_PER_RECORD = 1_000;

/** The config and manifest documents for `records`; layers shared by several records appear once. */
export function cacheDocuments(records: CacheRecord[]): {
  config: { bytes: Buffer; descriptor: Descriptor };
  manifest: { bytes: Buffer; descriptor: Descriptor };
  layers: Descriptor[];
} {
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  const created: (number | null)[] = [];
  const index = new Map<string, number>();
  const doc: CacheConfigDoc = { tsbuildCache: 1, diffIds, created, records: [] };
  for (const r of [...records].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const at = r.layers.map((l) => {
      let i = index.get(l.blob.digest);
      if (i === undefined) {
        i = layers.length;
        index.set(l.blob.digest, i);
        layers.push({ mediaType: l.blob.mediaType, digest: l.blob.digest, size: l.blob.size });
        diffIds.push(l.diffId);
        created.push(l.created ?? null);
      }
      return i;
    });
    doc.records.push({ key: r.key, layers: at });
  }
  const configBytes = encodeJson(doc);
  const config = {
    mediaType: CACHE_CONFIG_MEDIA_TYPE,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  const manifestBytes = encodeJson({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers });
  return {
    config: { bytes: configBytes, descriptor: config },
    manifest: {
      bytes: manifestBytes,
      descriptor: {
        mediaType: MediaType.ociManifest,
        digest: sha256Digest(manifestBytes),
        size: manifestBytes.length,
      },
    },
    layers,
  };
}

/** The records of a cache manifest and its config, checked: anything malformed is an error. */
export function parseCacheDocuments(layers: Descriptor[], configBytes: Buffer): Map<string, CacheLayer[]> {
  let doc: Partial<CacheConfigDoc>;
  try {
    doc = JSON.parse(configBytes.toString('utf8')) as Partial<CacheConfigDoc>;
  } catch {
    throw invalid('its config is not JSON');
  }
  return cacheRecordsOf(layers, doc);
}

/**
 * A cache document's records over `layers` (a cache manifest's, or an image's for an inline cache),
 * checked: bounded, every index in range, a diffID per layer.
 */
export function cacheRecordsOf(
  layers: Descriptor[],
  doc: Partial<CacheConfigDoc>,
): Map<string, CacheLayer[]> {
  if (doc?.tsbuildCache !== 1) throw invalid('its config is not a tsbuild cache (v1)');
  const { diffIds, records, created } = doc;
  if (!Array.isArray(diffIds) || diffIds.length !== layers.length || !diffIds.every(isDigest))
    throw invalid('its diffIds do not match its layers');
  const times = Array.isArray(created) && created.length === layers.length ? created : [];
  const when = (i: number) =>
    Number.isSafeInteger(times[i]) && (times[i] as number) > 0 ? { created: times[i] as number } : {};
  if (!Array.isArray(records) || records.length > MAX_RECORDS) throw invalid('bad records');
  const out = new Map<string, CacheLayer[]>();
  for (const r of records) {
    const ok =
      typeof r?.key === 'string' &&
      Array.isArray(r.layers) &&
      r.layers.length <= MAX_LAYERS_PER_RECORD &&
      r.layers.every((i) => Number.isInteger(i) && i >= 0 && i < layers.length);
    if (!ok) throw invalid(`bad record ${JSON.stringify(r?.key ?? null).slice(0, 80)}`);
    out.set(
      r.key,
      r.layers.map((i) => ({ blob: layers[i]!, diffId: diffIds[i]!, ...when(i) })),
    );
  }
  return out;
}

export function invalid(why: string): TsbuildError {
  return new TsbuildError('INVALID_CACHE', `the imported build cache is invalid: ${why}`);
}
