import { createRequire } from 'node:module';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { crc32, createGunzip } from 'node:zlib';
import type { LayerCompression as Compression } from '../types.js';
import { deflateBlock, GZIP_THREADS, gzipPool } from './worker-pool.js';

const BLOCK = 128 * 1024;
const DICT = 32 * 1024;
/** A layer this many blocks long starts the worker pool (its later blocks go there, see deflateBlock). */
const POOL_AFTER = 4;
// gzip header: magic, deflate, no flags, mtime 0, xfl 0, OS 3 (Unix): fixed, so output is deterministic.
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
// A final empty fixed-Huffman block: ends the deflate stream after the sync-flushed blocks.
const DEFLATE_END = Buffer.from([3, 0]);

/**
 * Parallel gzip (the pigz approach): the input is cut into fixed 128 KiB blocks, each deflated in a
 * thread primed with the previous block's last 32 KiB and sync-flushed; the blocks concatenate into
 * one deflate stream. Fixed block size and header → the same input gives the same bytes on any
 * machine, whatever the core count or how the input was chunked. CRC-32 runs here, in order.
 */
export class ParallelGzip extends Transform {
  readonly #level: number;
  #block = Buffer.allocUnsafeSlow(BLOCK);
  #used = 0;
  #dict: Buffer | undefined;
  #crc = 0;
  #isize = 0;
  #queue: Promise<Buffer>[] = [];
  #started = false;
  #blocks = 0;

  constructor(level = 6) {
    super({ highWaterMark: 1 << 20 });
    this.#level = level;
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    if (!this.#started) {
      this.#started = true;
      this.push(GZIP_HEADER);
    }
    this.#crc = crc32(chunk, this.#crc);
    this.#isize = (this.#isize + chunk.length) >>> 0;
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(BLOCK - this.#used, chunk.length - off);
      chunk.copy(this.#block, this.#used, off, off + n);
      this.#used += n;
      off += n;
      if (this.#used === BLOCK) this.#dispatch();
    }
    // Enough blocks in flight that the workers never starve while this thread makes more input.
    this.#drain(GZIP_THREADS * 8).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.#started) this.push(GZIP_HEADER);
    if (this.#used > 0) this.#dispatch();
    this.#drain(0)
      .then(() => {
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(this.#crc >>> 0, 0);
        trailer.writeUInt32LE(this.#isize, 4);
        this.push(DEFLATE_END);
        this.push(trailer);
        cb();
      })
      .catch(cb);
  }

  #dispatch(): void {
    const data = this.#block.subarray(0, this.#used);
    const nextDict = Buffer.from(data.subarray(Math.max(0, data.length - DICT)));
    this.#queue.push(deflateBlock(data, this.#dict, this.#level));
    if (++this.#blocks === POOL_AFTER) gzipPool();
    this.#dict = nextDict;
    this.#block = Buffer.allocUnsafeSlow(BLOCK);
    this.#used = 0;
  }

  /** Pushes finished blocks in order until at most `max` are in flight. */
  async #drain(max: number): Promise<void> {
    while (this.#queue.length > max) this.push(await this.#queue.shift()!);
  }
}

const require = createRequire(import.meta.url);
type ZstdModule = typeof import('zstd-napi');
let zstd: ZstdModule | undefined;
function zstdModule(): ZstdModule {
  zstd ??= require('zstd-napi') as ZstdModule;
  return zstd;
}

/** zstd with libzstd's own worker threads (nbWorkers ≥ 1 gives identical output for any count). */
function zstdCompress(level: number): Transform {
  const z = zstdModule();
  try {
    return new z.CompressStream({ compressionLevel: level, nbWorkers: 2 });
  } catch {
    return new z.CompressStream({ compressionLevel: level });
  }
}

/** A transform compressing with `compression`. */
export function compressStream(compression: Compression, opts: { level?: number } = {}): Transform {
  switch (compression) {
    case 'gzip':
      return new ParallelGzip(opts.level ?? 6);
    case 'zstd':
      return zstdCompress(opts.level ?? 3);
    default:
      return new Transform({ transform: (c, _e, cb) => cb(null, c) });
  }
}

/** A transform decompressing `compression` (streams; verification is the caller's hash). */
export function decompressStream(compression: Compression): Transform {
  switch (compression) {
    case 'gzip':
      return createGunzip({ chunkSize: 1 << 20 });
    case 'zstd':
      return new (zstdModule().DecompressStream)();
    default:
      return new Transform({ transform: (c, _e, cb) => cb(null, c) });
  }
}

/** `src.pipe(t)`, but an error of `src` fails `t` too (`pipe` leaves the reader of `t` waiting). */
export function chain<T extends Transform>(src: Readable, t: T): T {
  src.on('error', (e) => t.destroy(e));
  return src.pipe(t);
}

/** What moby's DecompressStream sniffs: the codecs an archive (ADD's, `docker load`'s) may come in. */
export type ArchiveCompression = 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** The codec whose magic number `head` starts with, if any. */
export function sniffCompression(head: Uint8Array): ArchiveCompression | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return undefined;
}

/** A layer's codec by its magic bytes: gzip or zstd (what layers come in), else uncompressed. */
export function detectCompression(head: Uint8Array): Compression {
  const c = sniffCompression(head);
  return c === 'gzip' || c === 'zstd' ? c : 'uncompressed';
}
