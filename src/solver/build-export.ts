import { writeFile } from 'node:fs/promises';
import type { BuildOptions, BuildResult } from '../build.js';
import { errnoText, TsbuildError } from '../errors.js';
import {
  type ExportContext,
  type ExportResult,
  exportImages,
  exportIndex,
  type ImageModel,
  type IndexExportResult,
  type OutputSpec,
  type PlatformImage,
  recordUntagged,
} from '../exporter/index.js';
import type { Platform } from '../oci/index.js';
import type { ProgressSink } from '../progress/events.js';
import type { RegistryClient } from '../registry/index.js';
import type { LeaseHandle, Store } from '../store/index.js';
import { loadCommitted, metadata } from './build-result.js';
import { bytesProgress } from './bytes-progress.js';
import type { BuildCacheIndex } from './cache-index.js';
import { isGoneError, leaseImage } from './lease-image.js';
import type { SolveStats } from './scheduler.js';

/** What the export of a solved build needs from runBuild. */
export interface ExportJob {
  o: BuildOptions;
  store: Store;
  lease: LeaseHandle;
  model: ImageModel;
  outputs: OutputSpec[];
  tags: string[];
  registry: RegistryClient;
  platform: Platform;
  signal: AbortSignal;
  progress: ProgressSink;
  cache: BuildCacheIndex;
  stats: SolveStats;
  started: number;
  /** SOURCE_DATE_EPOCH, seconds. */
  epoch?: number;
  /** `--annotation index:…` */
  indexAnnotations?: Record<string, string>;
  /** Runs once the image is written, before the files and the summary (`--cache-to`'s export). */
  beforeSummary?: () => Promise<void>;
}

/** The outputs written (after watch's gate, if any), the image leased, the result reported. */
export async function exportBuild(j: ExportJob): Promise<BuildResult> {
  const leased = j.o.exportGate ? await preExport(j, j.o.exportGate) : undefined;
  const results = await exportLeased(j, leased);
  const first = results[0];
  if (!first) throw new TsbuildError('EXPORT_FAILED', 'no output was written');
  const untagged = results.find((r) => r.output.type === 'image' && r.tags.length === 0)?.image;
  if (untagged && j.o.keepUntagged !== false) await recordUntagged(j.store, untagged.descriptor);
  await j.cache.settle();
  return report(j, results, first);
}

/**
 * Watch's speculative build: the image's blobs now (content-addressed, invisible) and leased, its
 * names and outputs only once the gate opens; the export after it finds them and only tags.
 * Returns the manifest digest it leased.
 */
async function preExport(j: ExportJob, gate: Promise<void>): Promise<string | undefined> {
  const silent = j.outputs.filter((x) => x.type === 'image' && !x.push).map((x) => ({ ...x, names: [] }));
  // Best effort: a failure here (a racing prune) is the real export's to meet and report.
  const pre =
    silent.length > 0
      ? await exportImages(j.store, j.model, silent, { platform: j.platform, signal: j.signal }).catch(
          () => [],
        )
      : [];
  const leased =
    pre[0] && (await leaseImage(j.store, j.lease, pre[0].digest, pre[0].image?.manifest).catch(() => false))
      ? pre[0].digest
      : undefined;
  await gateOrAbort(gate, j.signal);
  return leased;
}

/** A prune racing the export may take a blob it reused: lease them all, export again if one went. */
async function exportLeased(j: ExportJob, leased: string | undefined): Promise<ExportResult[]> {
  const exportAll = () => exportImages(j.store, j.model, j.outputs, exportContext(j));
  let results = await exportAll().catch((e) => (isGoneError(e) ? exportAll() : Promise.reject(e)));
  for (let i = 0; i < 3; i++) {
    const r = results[0];
    if (!r || r.digest === leased || (await leaseImage(j.store, j.lease, r.digest, r.image?.manifest))) break;
    results = await exportAll();
  }
  return results;
}

function exportContext(j: ExportJob): ExportContext {
  return {
    tags: j.tags,
    registry: j.registry,
    platform: j.platform,
    signal: j.signal,
    onProgress: bytesProgress(j.progress),
    keepReplaced: j.o.keepUntagged !== false,
    ...(j.epoch !== undefined ? { epoch: j.epoch } : {}),
    indexCreated: rfc3339(j.epoch === undefined ? Date.now() : j.epoch * 1000),
    ...(j.indexAnnotations ? { indexAnnotations: j.indexAnnotations } : {}),
  };
}

/** The BuildResult, --iidfile, --metadata-file and the summary event. */
async function report(j: ExportJob, results: ExportResult[], first: ExportResult): Promise<BuildResult> {
  const committed = await loadCommitted(j.store, first.digest, first.image);
  const result: BuildResult = {
    digest: first.digest,
    configDigest: first.configDigest,
    manifest: committed.manifest,
    config: committed.config,
    tags: [...new Set(results.flatMap((r) => r.tags))],
    size: committed.size,
    stepsCached: j.stats.cached,
    stepsRun: j.stats.run,
    duration: Date.now() - j.started,
  };
  return written(j, result, metadata(result, first.digest, committed.manifestSize));
}

/**
 * A multi-platform build (several `--platform`s): the index and its images written (after watch's
 * gate), leased, reported. `-q` and `--iidfile` give the index digest, as buildx does (no config).
 */
export async function exportPlatforms(j: ExportJob, images: PlatformImage[]): Promise<BuildResult> {
  if (j.o.exportGate) await gateOrAbort(j.o.exportGate, j.signal);
  const exportAll = () => exportIndex(j.store, images, j.outputs, exportContext(j));
  let results = await exportAll().catch((e) => (isGoneError(e) ? exportAll() : Promise.reject(e)));
  for (let i = 0; i < 3 && results[0] && !(await leaseIndex(j, results[0])); i++) results = await exportAll();
  const first = results[0];
  if (!first) throw new TsbuildError('EXPORT_FAILED', 'no output was written');
  const { descriptor, index, images: made } = first.index;
  if (j.o.keepUntagged !== false && results.some((r) => r.output.type === 'image' && r.tags.length === 0))
    await recordUntagged(j.store, descriptor);
  await j.cache.settle();
  const size = made.reduce(
    (n, m) =>
      n + m.descriptor.size + m.manifest.config.size + m.manifest.layers.reduce((a, l) => a + l.size, 0),
    descriptor.size,
  );
  const result: BuildResult = {
    digest: descriptor.digest,
    configDigest: descriptor.digest,
    manifest: index,
    config: undefined,
    tags: [...new Set(results.flatMap((r) => r.tags))],
    size,
    stepsCached: j.stats.cached,
    stepsRun: j.stats.run,
    duration: Date.now() - j.started,
  };
  const { 'containerimage.config.digest': _none, ...meta } = metadata(
    result,
    descriptor.digest,
    descriptor.size,
  );
  return written(j, result, meta);
}

/** Every platform's blobs and the index leased; false: one went (a racing prune), export again. */
async function leaseIndex(j: ExportJob, r: IndexExportResult): Promise<boolean> {
  const ok = await Promise.all(
    r.index.images.map((m) => leaseImage(j.store, j.lease, m.descriptor.digest, m.manifest)),
  );
  await j.lease.addBlob(r.index.descriptor.digest);
  return ok.every(Boolean) && (await j.store.content.has(r.index.descriptor.digest));
}

/** --iidfile, --metadata-file and the summary event of a built result. */
async function written(
  j: ExportJob,
  result: BuildResult,
  meta: Record<string, unknown>,
): Promise<BuildResult> {
  await j.beforeSummary?.();
  if (j.o.iidfile) await writeResultFile(j.o.iidfile, result.configDigest);
  if (j.o.metadataFile) await writeResultFile(j.o.metadataFile, `${JSON.stringify(meta, null, 2)}\n`);
  j.progress.emit({
    type: 'summary',
    digest: result.digest,
    imageId: result.configDigest,
    ...(j.outputs.every((o) => o.type === 'local' || o.type === 'tar') ? { toClient: true as const } : {}),
    tags: result.tags,
    size: result.size,
    duration: result.duration,
    at: Date.now(),
  });
  return result;
}

/** The CLI's words when it cannot write one (Go's `open PATH: no such file or directory`). */
async function writeResultFile(path: string, data: string): Promise<void> {
  await writeFile(path, data).catch((e: unknown) => {
    throw new TsbuildError('RESULT_FILE_UNWRITABLE', `open ${path}: ${errnoText(e)}`, {
      hint: 'the image was built and tagged; only this file could not be written',
    });
  });
}

/** Go's time.RFC3339 in UTC: whole seconds. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** Waits for watch's export gate; the build's signal ends the wait. */
function gateOrAbort(gate: Promise<void>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void gate.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
