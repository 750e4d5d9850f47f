import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Worker code is inline (eval) so it runs the same from `src/` under vitest/tsx and from `dist/`.
 * Gzip block worker: raw deflate of one block primed with the previous 32 KiB (the pigz approach),
 * ended with a sync flush so blocks concatenate into one deflate stream.
 */
const GZIP_WORKER = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
parentPort.on('message', (m) => {
  try {
    const opts = { level: m.level, finishFlush: zlib.constants.Z_SYNC_FLUSH, memLevel: 8 };
    if (m.dict) opts.dictionary = m.dict;
    const out = zlib.deflateRawSync(m.data, opts);
    const ab = out.buffer.slice(out.byteOffset, out.byteOffset + out.length);
    parentPort.postMessage({ id: m.id, out: ab }, [ab]);
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
  }
});`;

interface Job {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

class Pool {
  readonly #workers: Worker[] = [];
  readonly #jobs = new Map<number, Job>();
  readonly #load: number[] = [];
  #next = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(GZIP_WORKER, { eval: true });
      w.unref();
      w.on('message', (m: { id: number; out?: ArrayBuffer; error?: string }) => {
        const job = this.#jobs.get(m.id);
        this.#jobs.delete(m.id);
        this.#load[i]!--;
        if (this.#jobs.size === 0) for (const x of this.#workers) x.unref();
        if (!job) return;
        if (m.error !== undefined) job.reject(new Error(m.error));
        else job.resolve(Buffer.from(m.out!));
      });
      w.on('error', (e) => {
        for (const j of this.#jobs.values()) j.reject(e);
        this.#jobs.clear();
      });
      this.#workers.push(w);
      this.#load.push(0);
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  deflate(data: Buffer, dict: Buffer | undefined, level: number): Promise<Buffer> {
    const id = this.#next++;
    let i = 0;
    for (let k = 1; k < this.#load.length; k++) if (this.#load[k]! < this.#load[i]!) i = k;
    this.#load[i]!++;
    const w = this.#workers[i]!;
    // Keep the process alive only while jobs are in flight.
    w.ref();
    return new Promise((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      // The block buffer is ours alone (allocUnsafeSlow, never reused): transfer it, no copy.
      const ab = data.buffer as ArrayBuffer;
      w.postMessage({ id, data: new Uint8Array(ab, data.byteOffset, data.length), dict, level }, [ab]);
    });
  }
}

let pool: Pool | undefined;

/** The process-wide gzip block pool: one worker per core, at most 4. */
export function gzipPool(): Pool {
  pool ??= new Pool(Math.max(1, Math.min(4, availableParallelism())));
  return pool;
}
