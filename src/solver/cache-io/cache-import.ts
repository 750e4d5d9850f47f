import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firstLine, TsbuildError } from '../../errors.js';
import { findImage, readDoc } from '../../exporter/index.js';
import type { Descriptor, ImageIndex, ImageReference } from '../../oci/index.js';
import { formatReference, parseManifestOrIndex, parseReference } from '../../oci/index.js';
import type { ProgressSink } from '../../progress/events.js';
import type { PullResult, RegistryClient } from '../../registry/index.js';
import { fetchManifest, fetchSmallBlob, MAX_MANIFEST, pullBlob } from '../../registry/pull.js';
import type { Store } from '../../store/index.js';
import type { BuildCacheIndex } from '../cache-index.js';
import { applyImageLayers } from '../ops/image-op.js';
import type { SolvedFs } from '../ops/index.js';
import { CACHE_CONFIG_MEDIA_TYPE, type CacheLayer, parseCacheDocuments } from './cache-manifest.js';
import type { CacheSpec } from './cache-spec.js';
import { cacheStep } from './cache-step.js';
import { inlineRecords } from './inline-cache.js';

/** One `--cache-from`: its records, and how to bring one of their blobs into the store. */
export interface ImportedCache {
  records: Map<string, CacheLayer[]>;
  fetch(blob: Descriptor, signal: AbortSignal): Promise<void>;
}

interface ImportEnv {
  store: Store;
  registry: RegistryClient;
  progress: ProgressSink;
  signal: AbortSignal;
}

/**
 * Reads each `--cache-from` (its manifest and config; no layer yet). One that cannot be read (not
 * pushed yet: the first CI run) is a warning and the build goes on, as with buildx.
 */
export async function importCaches(specs: CacheSpec[], env: ImportEnv): Promise<ImportedCache[]> {
  const out: ImportedCache[] = [];
  for (const spec of specs) {
    const where = spec.type === 'registry' ? spec.ref : spec.dir;
    const step = {
      id: `cache-import:${where}`,
      name: `importing cache manifest from ${where}`,
      warn: `cache not imported from ${where}`,
      tolerate: () => !env.signal.aborted,
    };
    const got = await cacheStep(env.progress, step, async () =>
      spec.type === 'registry'
        ? ((await fromLocalImage(spec.ref, env)) ?? (await fromRegistry(spec.ref, env)))
        : fromDir(spec.dir, env),
    );
    if (got) out.push(got);
  }
  return out;
}

async function fromRegistry(refText: string, env: ImportEnv): Promise<ImportedCache> {
  const ref = parseReference(refText);
  const m = await fetchManifest(env.registry, ref, undefined, env.signal);
  const fetch = (blob: Descriptor, signal: AbortSignal) =>
    pullBlob(env.registry, env.store, ref, blob, signal);
  if (m.parsed.kind === 'index') return { records: await indexRecords(m.parsed.index, ref, env), fetch };
  const { config, layers } = m.parsed.manifest;
  const bytes = await fetchSmallBlob(env.registry, ref, config, MAX_MANIFEST, env.signal);
  const records =
    config.mediaType === CACHE_CONFIG_MEDIA_TYPE
      ? parseCacheDocuments(layers, bytes)
      : inlineRecords(layers, bytes);
  return { records, fetch };
}

/**
 * An image of the local store by that name with an inline cache, read from the store: dockerd's
 * BuildKit looks in its own image store first (moby's localinlinecache), so `--cache-from app` after
 * `docker build -t app --build-arg BUILDKIT_INLINE_CACHE=1` asks no registry. Without one (no such
 * tag, no inline cache), undefined: the registry is asked, as there.
 */
async function fromLocalImage(refText: string, env: ImportEnv): Promise<ImportedCache | undefined> {
  let desc: Descriptor;
  try {
    desc = (await findImage(env.store, refText)).descriptor;
  } catch {
    return undefined;
  }
  const parsed = parseManifestOrIndex(await readDoc(env.store, desc.digest), desc.mediaType);
  const manifests = parsed.kind === 'index' ? parsed.index.manifests.slice(0, MAX_INDEX_IMAGES) : [desc];
  const records = new Map<string, CacheLayer[]>();
  for (const entry of manifests) {
    // An index pulled for one platform lacks the others' manifests: they hold no usable records.
    const doc = await readDoc(env.store, entry.digest).catch(() => undefined);
    const m = doc && parseManifestOrIndex(doc, entry.mediaType);
    if (m?.kind !== 'manifest') continue;
    const config = await readDoc(env.store, m.manifest.config.digest).catch(() => undefined);
    for (const [k, v] of (config && tryInline(m.manifest.layers, config)) ?? []) records.set(k, v);
  }
  if (records.size === 0) return undefined;
  const fetch = async (blob: Descriptor) => {
    if (await env.store.content.has(blob.digest)) return;
    throw new TsbuildError('IMAGE_INCOMPLETE', `blob ${blob.digest} of ${refText} is missing from the store`);
  };
  return { records, fetch };
}

/** At most this many manifests of an index are read for their inline caches. */
const MAX_INDEX_IMAGES = 16;

/**
 * An image index pushed with inline caches (a multi-platform build): each platform's records (their
 * keys differ by platform). An image without one is passed over; none at all is an error.
 */
async function indexRecords(index: ImageIndex, ref: ImageReference, env: ImportEnv) {
  const out = new Map<string, CacheLayer[]>();
  let found = 0;
  for (const entry of index.manifests.slice(0, MAX_INDEX_IMAGES)) {
    const m = await fetchManifest(env.registry, ref, entry.digest, env.signal);
    if (m.parsed.kind !== 'manifest') continue;
    const { config, layers } = m.parsed.manifest;
    const bytes = await fetchSmallBlob(env.registry, ref, config, MAX_MANIFEST, env.signal);
    const records = tryInline(layers, bytes);
    if (!records) continue;
    found++;
    for (const [k, v] of records) out.set(k, v);
  }
  if (found === 0)
    throw new TsbuildError('INVALID_CACHE', `no image of ${formatReference(ref)} has an inline cache`);
  return out;
}

function tryInline(layers: Descriptor[], bytes: Buffer): Map<string, CacheLayer[]> | undefined {
  try {
    return inlineRecords(layers, bytes);
  } catch {
    return undefined;
  }
}

async function fromDir(dir: string, env: ImportEnv): Promise<ImportedCache> {
  const blobPath = (d: string) => join(dir, 'blobs', 'sha256', d.slice('sha256:'.length));
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  const entry = index.manifests?.[0];
  if (!entry?.digest || !/^sha256:[0-9a-f]{64}$/.test(entry.digest))
    throw new TsbuildError('INVALID_CACHE', `${dir}/index.json names no manifest`);
  // Read through the store: size and digest are checked, as for a registry's blobs.
  const readSmall = async (d: Descriptor) => {
    await env.store.content.ingest(createReadStream(blobPath(d.digest)), { digest: d.digest, size: d.size });
    return readFile(env.store.content.blobPath(d.digest));
  };
  const parsed = parseManifestOrIndex(await readSmall(entry), entry.mediaType);
  if (parsed.kind !== 'manifest') throw new TsbuildError('INVALID_CACHE', `${dir} holds no cache manifest`);
  const { config, layers } = parsed.manifest;
  if (config.size > MAX_MANIFEST) throw new TsbuildError('INVALID_CACHE', `${dir}: cache config too large`);
  return {
    records: parseCacheDocuments(layers, await readSmall(config)),
    fetch: async (blob) => {
      await env.store.content.ingest(createReadStream(blobPath(blob.digest)), {
        digest: blob.digest,
        size: blob.size,
      });
    },
  };
}

/** An imported record as it is, its layers not fetched: what a cache export can pass on. */
export interface PeekedRecord {
  layers: CacheLayer[];
  fetch: ImportedCache['fetch'];
}

export type ImportingCacheIndex = BuildCacheIndex & { peek(key: string): PeekedRecord | undefined };

/**
 * The build's cache index with the imported caches behind it: a key the store does not have, but
 * an imported cache does, is a hit once its layers are fetched and applied as a snapshot chain
 * (named by chain ID, as a base image's) and recorded in the store. A cache that fails to deliver
 * (a blob gone, a digest that lies) is a miss: the step runs, with a warning.
 */
export function withImportedCaches(
  local: BuildCacheIndex,
  imports: ImportedCache[],
  env: ImportEnv & { retain: (s: string) => Promise<void> },
): ImportingCacheIndex {
  if (imports.length === 0) return { ...local, peek: () => undefined };
  const fetching = new Map<string, Promise<void>>();
  const fetchOnce = (imp: ImportedCache, blob: Descriptor) => {
    let p = fetching.get(blob.digest);
    if (!p) {
      p = imp.fetch(blob, env.signal);
      fetching.set(blob.digest, p);
      p.catch(() => fetching.delete(blob.digest));
    }
    return p;
  };
  const materialize = async (imp: ImportedCache, layers: CacheLayer[]): Promise<SolvedFs> => {
    await Promise.all(layers.map((l) => fetchOnce(imp, l.blob)));
    const asImage = {
      manifest: { layers: layers.map((l) => l.blob) },
      config: { rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } },
    } as unknown as PullResult;
    const top = await applyImageLayers(env.store, asImage, { signal: env.signal, retain: env.retain });
    return { ...(top ? { snapshot: top } : {}), layers };
  };
  return {
    ...local,
    peek(key) {
      for (const imp of imports) {
        const layers = imp.records.get(key);
        if (layers && layers.length > 0) return { layers, fetch: imp.fetch };
      }
      return undefined;
    },
    async get(key) {
      const hit = await local.get(key);
      if (hit) return hit;
      for (const imp of imports) {
        const layers = imp.records.get(key);
        if (!layers || layers.length === 0) continue;
        try {
          const result = await materialize(imp, layers);
          await local.put(key, result);
          return result;
        } catch (e) {
          if (env.signal.aborted) throw e;
          env.progress.emit({
            type: 'warning',
            message: `imported cache not used: ${firstLine(e)}`,
            at: Date.now(),
          });
        }
      }
      return undefined;
    },
  };
}
