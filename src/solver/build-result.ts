import type { BuildResult } from '../build.js';
import type { ExportResult, ImageModel } from '../exporter/index.js';
import type { HistoryEntry, ImageConfig } from '../oci/index.js';
import type { Store } from '../store/index.js';
import type { SolvedStep } from './cache-io/cache-export.js';
import { INLINE_CACHE_FIELD, inlineCacheDoc } from './cache-io/inline-cache.js';
import type { ConvertResult } from './frontend/convert.js';
import { goTime } from './frontend/image-config.js';
import type { Vertex } from './graph.js';
import type { SolvedFs } from './ops/index.js';

// What a build reports about the image it made: the committed manifest and config, the
// --metadata-file record, and BuildKit's history/creation times.

/** The committed image's manifest, config and total size; `known` (what the export wrote) saves the reads. */
export async function loadCommitted(store: Store, digest: string, known?: ExportResult['image']) {
  let img = known;
  if (!img || img.descriptor.digest !== digest) {
    const { loadImage } = await import('../exporter/index.js');
    const info = await store.content.info(digest as `sha256:${string}`);
    img = await loadImage(store, {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digest as `sha256:${string}`,
      size: info.size,
    });
  }
  const manifestSize = img.descriptor.size;
  const size = manifestSize + img.manifest.config.size + img.manifest.layers.reduce((n, l) => n + l.size, 0);
  return { manifest: img.manifest, config: img.config, size, manifestSize };
}

export function metadata(r: BuildResult, digest: string, manifestSize: number): Record<string, unknown> {
  return {
    'containerimage.digest': digest,
    'containerimage.config.digest': r.configDigest,
    'containerimage.descriptor': {
      mediaType:
        (r.manifest as { mediaType?: string }).mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size: manifestSize,
    },
    ...(r.tags.length > 0 ? { 'image.name': r.tags.join(',') } : {}),
    size: r.size,
  };
}

/**
 * Times as BuildKit gives them: a new history entry is dated by the snapshot of its layer, or by the
 * time an imported build cache says its step ran (an empty entry by the layer before it), and the
 * image by its newest layer. A fully cached rebuild reuses those snapshots, so it reproduces the
 * same config, manifest and image ID. With SOURCE_DATE_EPOCH (`epoch`, seconds) the new entries
 * and the image are dated no later than it, and the base's entries keep their own times
 * (BuildKit's patchImageConfig: a clamp, base history untouched).
 */
export function historyTimes(
  entries: HistoryEntry[],
  layers: SolvedFs['layers'],
  layerMs: (number | undefined)[],
  epoch?: number,
): { created: string; history: HistoryEntry[] } {
  // The build's own layers (a base image's have dated history entries of their own).
  const ms = layerMs.filter((_, i) => 'snapshot' in layers[i]! || layers[i]!.created !== undefined);
  const at = (t: number) => new Date(epoch === undefined ? t : Math.min(t, epoch * 1000)).toISOString();
  const times = ms.map((t) => at(t ?? Date.now()));
  const now = at(Date.now());
  let next = 0;
  let cur = times[0] ?? now;
  const history = entries.map((h) => {
    if (h.created) return { ...h };
    if (!h.empty_layer) cur = times[next++] ?? cur;
    return { created: goTime(cur), ...h };
  });
  // ISO strings of one format sort like the times they stand for (trimmed ones would not).
  const created = times.length > 0 ? ([...times].sort().pop() as string) : now;
  return { created: goTime(created), history };
}

/** When each layer's step ran (ms): its snapshot's time, an imported cache's, none for a base's. */
async function layerTimes(store: Store, layers: SolvedFs['layers']): Promise<(number | undefined)[]> {
  return Promise.all(
    layers.map(async (l) =>
      'snapshot' in l ? (await store.snapshots.tryStat(l.snapshot))?.createdAt : l.created,
    ),
  );
}

/** The image as exported: the stage's config, its layers, BuildKit's history and creation times. */
export async function imageModel(
  store: Store,
  img: ConvertResult['image'],
  solved: SolvedFs,
  epoch: number | undefined,
  inline?: { steps: SolvedStep[]; target: Vertex | undefined },
): Promise<ImageModel> {
  const ms = await layerTimes(store, solved.layers);
  const { created, history } = historyTimes(img.history, solved.layers, ms, epoch);
  const cache = inline && inlineCacheDoc(inline.steps, inline.target, solved.layers, ms);
  const config = {
    created,
    architecture: img.architecture,
    os: img.os,
    ...(img['os.version'] ? { 'os.version': img['os.version'] } : {}),
    ...(img['os.features'] ? { 'os.features': img['os.features'] } : {}),
    ...(img.variant ? { variant: img.variant } : {}),
    ...(img.author ? { author: img.author } : {}),
    config: img.config,
    ...(cache ? { [INLINE_CACHE_FIELD]: cache } : {}),
  } as ImageConfig;
  return { config, layers: solved.layers, history };
}
