import { closeSync, existsSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { StoreError } from '../errors.js';
import type { Extracted, StreamOptions } from './apply-layer.js';
import type { GrowingBlob } from './types.js';

/**
 * The worker's module, when running compiled: beside this file (`dist/store/layer/`), or under
 * `store/layer/` when this code runs from the esbuild bundle at `dist/` (`.cjs`: its `import.meta.url`
 * is the bundle's own URL, see scripts/bundle.mjs). Under a TS loader (tests) there is none, and
 * layers are extracted in-process.
 */
const WORKER_URL = workerModule();

function workerModule(): URL | undefined {
  if (!/\.c?js$/.test(import.meta.url)) return undefined;
  for (const rel of ['./apply-worker.js', './store/layer/apply-worker.js']) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(u)) return u;
  }
  return undefined;
}

/** A worker started ahead of need, idle (and not keeping the process alive) until a layer comes. */
let spare: Worker | undefined;

function spawnWorker(): Worker {
  const w = new Worker(WORKER_URL!);
  w.unref();
  // Its failures reach whoever holds it (see extractInWorker); an idle one must not crash the process.
  w.on('error', () => {});
  return w;
}

/**
 * Starts an extraction worker now (a pull has begun): its start-up (~60 ms of Node's worker boot)
 * overlaps the downloads instead of following them. A no-op where there is no worker module.
 */
export function prewarmExtractWorker(): void {
  if (WORKER_URL && (!spare || spare.threadId === -1)) spare = spawnWorker();
}

export function takeWorker(): Worker {
  const w = spare && spare.threadId !== -1 ? spare : spawnWorker();
  spare = undefined;
  w.ref();
  return w;
}

/** Whether layers can be extracted off the main thread here (compiled code only). */
export function hasExtractWorker(): boolean {
  return WORKER_URL !== undefined;
}

/** What the worker is asked: a complete blob file, or an open fd to follow as it grows. */
export type ExtractJob = { dir: string; opts: StreamOptions } & (
  | { path: string }
  | { fd: number; bytes: number }
);
/** Sent to a worker following a file: more bytes are on disk, or the file is complete. */
export type FollowMessage = { bytes: number } | { end: number };

/**
 * `extractStream` of a layer in worker `w`: the extractor's syscalls and parsing are synchronous,
 * and a base image unpacked while the build converts and scans must not hold the main thread.
 * Without `growing`, the blob's path is posted once `ready` (it is in the store). With it, the worker
 * follows the download through the ingest file (an fd opened here before the commit renames it), so
 * unpacking runs beside the download instead of after it; a download that fails stops the worker.
 * Either way the digest the worker computes is checked by the caller, and on any failure the worker
 * is done writing before this rejects, so the caller may remove the snapshot dir.
 */
export async function extractInWorker(
  w: Worker,
  job: { path: string; dir: string; opts: StreamOptions },
  ready: Promise<void> = Promise.resolve(),
  growing?: GrowingBlob,
): Promise<Extracted> {
  // Died while idle (its 'exit' may have gone by unheard).
  if (w.threadId === -1) throw new StoreError('LAYER_INVALID', 'the layer extraction worker is gone');
  const answer = workerAnswer(w);
  answer.catch(() => {});
  let fd: number | undefined;
  try {
    fd = growing ? await openGrowing(growing, ready) : undefined;
    if (fd === undefined) await ready;
  } catch (e) {
    await w.terminate();
    throw e;
  }
  if (fd === undefined || !growing) {
    w.postMessage(job satisfies ExtractJob);
    return answer;
  }
  const post = (m: FollowMessage) => w.postMessage(m);
  w.postMessage({ dir: job.dir, opts: job.opts, fd, bytes: growing.bytes } satisfies ExtractJob);
  const unsubscribe = growing.onBytes((bytes) => post({ bytes }));
  let failed: { e: unknown } | undefined;
  ready.then(
    () => post({ end: growing.bytes }),
    (e: unknown) => {
      failed = { e };
      void w.terminate();
    },
  );
  try {
    return await answer;
  } catch (e) {
    // The download's own error, not the worker's "exited" it caused.
    if (failed) throw failed.e;
    throw e;
  } finally {
    unsubscribe();
    closeSync(fd);
  }
}

/**
 * An fd on the file the download is writing, or undefined: no download (the blob was in the store),
 * or it finished and was renamed before this looked (the blob file is then read whole).
 */
async function openGrowing(growing: GrowingBlob, ready: Promise<void>): Promise<number | undefined> {
  const file = await Promise.race([growing.file, ready.then(() => undefined)]);
  if (file === undefined) return undefined;
  try {
    return openSync(file, 'r');
  } catch {
    return undefined;
  }
}

/** The worker's one answer; an error or exit before it rejects (the worker has stopped by then). */
function workerAnswer(w: Worker): Promise<Extracted> {
  return new Promise((resolve, reject) => {
    let settled = false;
    w.once('message', (m: { ok?: Extracted; error?: { code: string; message: string; hint?: string } }) => {
      settled = true;
      if (m.ok) resolve(m.ok);
      else
        reject(new StoreError(m.error!.code, m.error!.message, m.error!.hint ? { hint: m.error!.hint } : {}));
    });
    w.once('error', (e) => {
      settled = true;
      reject(new StoreError('LAYER_INVALID', `extracting layer failed: ${e.message}`, { cause: e }));
    });
    w.once('exit', (code) => {
      if (!settled) reject(new StoreError('LAYER_INVALID', `layer extraction worker exited with ${code}`));
    });
  });
}
