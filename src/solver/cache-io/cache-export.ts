import { ociLayoutPlan, writeLayoutDir } from '../../exporter/layout.js';
import type { Descriptor, Digest } from '../../oci/index.js';
import { parseReference } from '../../oci/index.js';
import type { ProgressSink } from '../../progress/events.js';
import { blobExists, pushImage, type RegistryClient } from '../../registry/index.js';
import { createLayer, type Store } from '../../store/index.js';
import type { BuildCacheIndex } from '../cache-index.js';
import type { Vertex } from '../graph.js';
import type { SolvedFs } from '../ops/index.js';
import type { OpResult } from '../scheduler.js';
import type { ImportingCacheIndex, PeekedRecord } from './cache-import.js';
import { type CacheLayer, type CacheRecord, cacheDocuments } from './cache-manifest.js';
import type { CacheSpec } from './cache-spec.js';
import { cacheStep } from './cache-step.js';

/** A step this build solved (run or found in a cache), under the key a later build asks for. */
export interface SolvedStep {
  v: Vertex;
  key: string;
  result: OpResult;
  /** An imported record passed on unfetched: how to bring its blobs in, if the destination lacks them. */
  fetch?: PeekedRecord['fetch'];
}

interface ExportEnv {
  store: Store;
  registry: RegistryClient;
  progress: ProgressSink;
  signal: AbortSignal;
}

/**
 * Writes the build cache to each `--cache-to`: `mode=min` the steps of the exported images' own
 * chains (what BuildKit's min mode exports), `mode=max` every step that made a filesystem. Layers
 * are the gzip blobs a push would send (made once per snapshot, remembered by the store). A failure
 * fails the build unless `ignore-error=true`, as with buildx.
 */
export async function exportCaches(
  specs: CacheSpec[],
  steps: SolvedStep[],
  targets: (Vertex | undefined)[],
  env: ExportEnv,
): Promise<void> {
  const chain = new Set(targets.flatMap((t) => [...imageChain(t)]));
  for (const spec of specs) {
    const where = spec.type === 'registry' ? spec.ref : spec.dir;
    const step = {
      id: `cache-export:${where}`,
      name: `exporting cache to ${where}`,
      warn: `cache not exported to ${where}`,
      tolerate: () => spec.ignoreError && !env.signal.aborted,
    };
    await cacheStep(env.progress, step, async () => {
      const chosen = steps.filter((s) => spec.mode === 'max' || chain.has(s.v.digest));
      const records = await cacheRecords(chosen, env);
      await fetchMissing(spec, records, chosen, env);
      await writeCache(spec, records, env);
    });
  }
}

/** The steps whose results are layers of the image `target` makes: it and its rootfs ancestors. */
export function imageChain(target: Vertex | undefined): Set<string> {
  return new Set(chainVertices(target).map((v) => v.digest));
}

function chainVertices(target: Vertex | undefined): Vertex[] {
  const out: Vertex[] = [];
  for (let v = target; v; ) {
    const op = v.op;
    if (!makesLayers(v)) break;
    out.push(v);
    const fromScratch = (op.kind === 'exec' && op.scratchRoot) || (op.kind === 'file' && op.scratchBase);
    v = fromScratch ? undefined : v.inputs[0];
  }
  return out;
}

/**
 * The solved steps, and those a hit made unnecessary (a hit on the last step solves none below it):
 * those have keys too, and their records go out with the rest. Without them a fully cached build
 * would export one record, and the build after it, with its last step changed, would find none of
 * the steps before. The images' chains come from the cache index (an imported record's layers are
 * the image's, which the hit has fetched already); with `all` (a mode=max export) every other step
 * too, from the store, else an imported record as it is: its layers are fetched only if the
 * destination lacks them (a registry cache re-exported to its own ref has them all).
 */
export async function withUnsolvedSteps(
  steps: SolvedStep[],
  targets: (Vertex | undefined)[],
  keyOf: (v: Vertex) => Promise<string> | undefined,
  caches: { cache: ImportingCacheIndex; local: Pick<BuildCacheIndex, 'get'>; all: boolean },
): Promise<SolvedStep[]> {
  const out = [...steps];
  const seen = new Set(steps.map((s) => s.v.digest));
  const chain = targets.flatMap(chainVertices);
  const others = caches.all ? allVertices(targets).filter((v) => makesLayers(v) && !chain.includes(v)) : [];
  const keyed = async (v: Vertex) => {
    if (seen.has(v.digest)) return undefined;
    seen.add(v.digest);
    return keyOf(v)?.catch(() => undefined);
  };
  for (const v of chain) {
    const key = await keyed(v);
    const result = key ? await caches.cache.get(key) : undefined;
    if (key && result) out.push({ v, key, result });
  }
  for (const v of others) {
    const key = await keyed(v);
    const result = key ? await caches.local.get(key) : undefined;
    const peeked = key && !result ? caches.cache.peek(key) : undefined;
    if (key && result) out.push({ v, key, result });
    else if (key && peeked) {
      const passed: SolvedFs = { layers: peeked.layers };
      out.push({ v, key, result: passed, fetch: peeked.fetch });
    }
  }
  return out;
}

function allVertices(targets: (Vertex | undefined)[]): Vertex[] {
  const seen = new Map<string, Vertex>();
  const visit = (v: Vertex) => {
    if (seen.has(v.digest)) return;
    seen.set(v.digest, v);
    for (const i of v.inputs) visit(i);
  };
  for (const t of targets) if (t) visit(t);
  return [...seen.values()];
}

/** RUN, COPY/ADD/WORKDIR and COPY --link merges: the steps whose results are image layers. */
function makesLayers(v: Vertex): boolean {
  return v.op.kind === 'exec' || v.op.kind === 'file' || v.op.kind === 'merge';
}

/** One record per step that made a filesystem; each layer as a compressed blob with its diffID. */
async function cacheRecords(steps: SolvedStep[], env: ExportEnv): Promise<CacheRecord[]> {
  const records = new Map<string, CacheRecord>();
  for (const s of steps) {
    const fs = s.result as SolvedFs;
    // No snapshot and no layers: an empty rootfs (a passed-on record has layers, no snapshot).
    if (!makesLayers(s.v) || (!fs.snapshot && fs.layers.length === 0) || records.has(s.key)) continue;
    const layers: CacheLayer[] = [];
    for (const l of fs.layers) {
      if ('blob' in l) layers.push(l);
      else {
        const made = await createLayer(env.store, l.snapshot, { compression: 'gzip', signal: env.signal });
        const blob: Descriptor = {
          mediaType: made.mediaType,
          digest: made.digest as Digest,
          size: made.size,
        };
        const info = await env.store.snapshots.tryStat(l.snapshot);
        layers.push({ blob, diffId: made.diffId as Digest, ...(info ? { created: info.createdAt } : {}) });
      }
    }
    records.set(s.key, { key: s.key, layers });
  }
  return [...records.values()];
}

/** The blobs of passed-on records that neither the store nor the destination registry has. */
async function fetchMissing(spec: CacheSpec, records: CacheRecord[], steps: SolvedStep[], env: ExportEnv) {
  const fetchers = new Map(steps.flatMap((s) => (s.fetch ? [[s.key, s.fetch] as const] : [])));
  const ref = spec.type === 'registry' ? parseReference(spec.ref) : undefined;
  const done = new Set<string>();
  for (const r of records) {
    const fetch = fetchers.get(r.key);
    for (const { blob } of fetch ? r.layers : []) {
      if (done.has(blob.digest)) continue;
      done.add(blob.digest);
      if (await env.store.content.has(blob.digest as Digest)) continue;
      if (ref && (await blobExists(env.registry, ref, blob.digest, env.signal))) continue;
      await fetch?.(blob, env.signal);
    }
  }
}

async function writeCache(spec: CacheSpec, records: CacheRecord[], env: ExportEnv): Promise<void> {
  const docs = cacheDocuments(records);
  await env.store.content.ingest(docs.config.bytes, docs.config.descriptor);
  await env.store.content.ingest(docs.manifest.bytes, docs.manifest.descriptor);
  if (spec.type === 'local') {
    const plan = ociLayoutPlan({
      manifest: docs.manifest.descriptor,
      config: docs.config.descriptor,
      layers: docs.layers,
      names: [],
    });
    await writeLayoutDir(env.store, plan, spec.dir);
  } else {
    await pushImage(env.registry, env.store, docs.manifest.descriptor, parseReference(spec.ref), {
      signal: env.signal,
    });
  }
}
