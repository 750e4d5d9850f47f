import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fsPath } from '../fs-names.js';

/**
 * sha256 of many files. Sync reads into one reused 1 MiB buffer are the fastest path on these
 * machines (DESIGN.md); big batches go to a worker thread so the event loop (progress, signals)
 * keeps running, small ones are hashed inline where a worker's start-up would cost more.
 */
export function hashFileSync(path: string, buf = Buffer.allocUnsafe(1 << 20)): string {
  const h = createHash('sha256');
  const fd = openSync(fsPath(path), 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

// The worker is plain CommonJS given as source, so it runs the same under tsx, vitest and dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const buf = Buffer.allocUnsafe(1 << 20);
const out = [];
for (const p of workerData) {
  // a name that is not UTF-8 comes as its bytes (fsPath), cloned to a Uint8Array
  try {
    const h = createHash('sha256');
    const fd = fs.openSync(typeof p === 'string' ? p : Buffer.from(p), 'r');
    try {
      for (;;) { const n = fs.readSync(fd, buf, 0, buf.length, null); if (n === 0) break; h.update(buf.subarray(0, n)); }
    } finally { fs.closeSync(fd); }
    out.push(h.digest('hex'));
  } catch (e) { out.push('!' + (e && e.message)); }
}
parentPort.postMessage(out);
`;

// A worker costs 50-100 ms to start here (a fresh isolate), while inline hashing of 300 small
// files takes 3-10 ms: the worker only pays when the batch itself takes longer than that. Up to
// these limits the event loop stalls well under 100 ms (~10 µs a file, ~1 GB/s).
const INLINE_LIMIT_FILES = 4000;
const INLINE_LIMIT_BYTES = 32 << 20;

/** Hashes `paths` (absolute), in order; a file that cannot be read throws. */
export async function hashFiles(
  paths: string[],
  totalBytes: number,
  signal?: AbortSignal,
): Promise<string[]> {
  if (paths.length === 0) return [];
  if (paths.length <= INLINE_LIMIT_FILES && totalBytes <= INLINE_LIMIT_BYTES) {
    const buf = Buffer.allocUnsafe(1 << 20);
    return paths.map((p) => hashFileSync(p, buf));
  }
  // Two workers on two cores: the split is by count, which is good enough for hashing throughput.
  const parts = paths.length > 2000 || totalBytes > 64 << 20 ? 2 : 1;
  const size = Math.ceil(paths.length / parts);
  const chunks: string[][] = [];
  for (let i = 0; i < paths.length; i += size) chunks.push(paths.slice(i, i + size));
  const results = await Promise.all(chunks.map((c) => runWorker(c, signal)));
  const flat = results.flat();
  for (let i = 0; i < flat.length; i++) {
    const r = flat[i] as string;
    if (r.startsWith('!')) throw new Error(`cannot read ${paths[i]}: ${r.slice(1)}`);
  }
  return flat;
}

function runWorker(paths: string[], signal?: AbortSignal): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: paths.map(fsPath) });
    const onAbort = () => {
      void w.terminate();
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    w.once('message', (m: string[]) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(m);
    });
    w.once('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
  });
}
