import type { ImageLayer } from '../../exporter/index.js';
import type { Descriptor } from '../../oci/index.js';
import { parseGoBool } from '../../parser/index.js';
import type { Vertex } from '../graph.js';
import type { SolvedFs } from '../ops/index.js';
import { imageChain, type SolvedStep } from './cache-export.js';
import { type CacheConfigDoc, type CacheLayer, cacheRecordsOf, invalid } from './cache-manifest.js';

/**
 * BuildKit's inline cache (`--cache-to type=inline`, or `--build-arg BUILDKIT_INLINE_CACHE=1`): the
 * cache records of the image's own chain (min mode) ride in its config, so pushing the image pushes
 * its cache and `--cache-from IMAGE` reuses it. BuildKit's field is `moby.buildkit.cache.v0`, over
 * BuildKit's own cache keys; tsbuild's keys differ, so its field does too (an unknown top-level
 * field of a config is left alone by docker, skopeo and BuildKit). A record's layers are indexes
 * into the image's layers; their diffIDs are the config's rootfs.
 */
export const INLINE_CACHE_FIELD = 'io.tsbuild.cache.v1';

export type InlineCacheDoc = Omit<CacheConfigDoc, 'diffIds'>;

/** BuildKit reads the build arg with Go's strconv.ParseBool. */
export function inlineCacheArg(buildArgs: Record<string, string> | undefined): boolean {
  return parseGoBool(buildArgs?.BUILDKIT_INLINE_CACHE ?? '') === true;
}

/**
 * The inline records of the image `target` makes, whose layers are `layers`: each step of its chain
 * this build solved, if all its layers are the image's (a step's always are: it is a prefix).
 */
export function inlineCacheDoc(
  steps: SolvedStep[],
  target: Vertex | undefined,
  layers: ImageLayer[],
  layerMs: (number | undefined)[],
): InlineCacheDoc {
  const chain = imageChain(target);
  const id = (l: ImageLayer) => ('snapshot' in l ? `s:${l.snapshot}` : `b:${l.blob.digest}`);
  const at = new Map(layers.map((l, i) => [id(l), i]));
  const records = new Map<string, number[]>();
  for (const s of steps) {
    const fs = s.result as SolvedFs;
    if (!chain.has(s.v.digest) || !fs.snapshot || records.has(s.key)) continue;
    const idx = fs.layers.map((l) => at.get(id(l)));
    if (idx.every((i) => i !== undefined)) records.set(s.key, idx as number[]);
  }
  // When each layer's step ran (null for a base image's), so a build from this cache dates its
  // history as this one did (the same image again).
  const created = layerMs.map((t) => t ?? null);
  const sorted = [...records].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { tsbuildCache: 1, created, records: sorted.map(([key, l]) => ({ key, layers: l })) };
}

/** The records an image's config carries inline, over its manifest's layers; checked like a cache's. */
export function inlineRecords(layers: Descriptor[], configBytes: Buffer): Map<string, CacheLayer[]> {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(configBytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalid('the image config is not JSON');
  }
  const doc = config?.[INLINE_CACHE_FIELD] as InlineCacheDoc | undefined;
  if (!doc || typeof doc !== 'object')
    throw invalid(`the image has no inline cache (build it with --cache-to type=inline)`);
  const rootfs = config.rootfs as { diff_ids?: unknown } | undefined;
  return cacheRecordsOf(layers, { ...doc, diffIds: rootfs?.diff_ids as CacheConfigDoc['diffIds'] });
}
