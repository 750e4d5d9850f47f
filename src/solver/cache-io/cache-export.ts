import { ociLayoutPlan, writeLayoutDir } from '../../exporter/layout.js';
import type { Descriptor, Digest } from '../../oci/index.js';
import { parseReference } from '../../oci/index.js';
import type { ProgressSink } from '../../progress/events.js';
import { pushImage, type RegistryClient } from '../../registry/index.js';
import { createLayer, type Store } from '../../store/index.js';
import type { BuildCacheIndex } from '../cache-index.js';
import type { Vertex } from '../graph.js';
import type { SolvedFs } from '../ops/index.js';
import type { OpResult } from '../scheduler.js';
import { type CacheLayer, type CacheRecord, cacheDocuments } from './cache-manifest.js';
import type { CacheSpec } from './cache-spec.js';
import { cacheStep } from './cache-step.js';

/** A step this build solved (run or found in a cache), under the key a later build asks for. */
export interface SolvedStep {
  v: Vertex;
  key: string;
  result: OpResult;
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
      await writeCache(spec, await cacheRecords(chosen, env), env);
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
 * The solved steps and the steps of the images' chains a hit made unnecessary (a hit on the last
 * step solves none below it): those have keys too, and their records (in the store, or in an
 * imported cache, whose layers the hit has fetched already) go out with the rest. Without them a
 * fully cached build would export one record, and the build after it, with its last step
 * changed, would find none of the steps before.
 */
export async function withChainSteps(
  steps: SolvedStep[],
  targets: (Vertex | undefined)[],
  keyOf: (v: Vertex) => Promise<string> | undefined,
  cache: Pick<BuildCacheIndex, 'get'>,
): Promise<SolvedStep[]> {
  const out = [...steps];
  const seen = new Set(steps.map((s) => s.v.digest));
  for (const v of targets.flatMap(chainVertices)) {
    if (seen.has(v.digest)) continue;
    seen.add(v.digest);
    const key = await keyOf(v)?.catch(() => undefined);
    const result = key ? await cache.get(key) : undefined;
    if (key && result) out.push({ v, key, result });
  }
  return out;
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
    if (!makesLayers(s.v) || !fs.snapshot || records.has(s.key)) continue;
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
