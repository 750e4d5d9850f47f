import { createHash, type Hash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { Writable } from 'node:stream';
import type { BlobRef } from '../../oci/descriptor.js';
import { type Digest, digestHex } from '../../oci/digest.js';
import { fsyncDir } from '../atomic.js';
import { StoreError } from '../errors.js';
import type { ContentWriter } from '../types.js';
import { releaseIngest } from './ingest-lock.js';

export interface WriterPaths {
  /** The ingest dir (holds `lock` and `data`). */
  dir: string;
  data: string;
  /** blobs/sha256 */
  blobsDir: string;
}

/**
 * Writes into `ingest/<ref>/data`, hashing every byte as it goes. Nothing is visible until `commit()`
 * has checked size and digest, fsynced the data and renamed it into `blobs/sha256/<hex>`.
 */
export class LocalContentWriter extends Writable implements ContentWriter {
  readonly ref: string;
  #offset = 0;
  readonly #hash: Hash = createHash('sha256');
  readonly #fh: fsp.FileHandle;
  readonly #paths: WriterPaths;
  readonly #expected: Partial<BlobRef>;
  readonly #onWritten: ((bytes: number) => void) | undefined;
  readonly #hashedBy: (() => Digest) | undefined;
  #done = false;

  constructor(
    ref: string,
    fh: fsp.FileHandle,
    paths: WriterPaths,
    expected: Partial<BlobRef> = {},
    onWritten?: (bytes: number) => void,
    hashedBy?: () => Digest,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.ref = ref;
    this.#fh = fh;
    this.#paths = paths;
    this.#expected = expected;
    this.#onWritten = onWritten;
    this.#hashedBy = hashedBy;
  }

  get offset(): number {
    return this.#offset;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const size = this.#expected.size;
    if (size !== undefined && this.#offset + chunk.length > size) {
      cb(sizeError(this.ref, size, this.#offset + chunk.length, 'more than'));
      return;
    }
    if (!this.#hashedBy) this.#hash.update(chunk);
    const at = this.#offset;
    this.#offset += chunk.length;
    // Writes are one at a time (Writable's contract), so what is on disk is always a prefix.
    writeAll(this.#fh, chunk, at).then(() => {
      try {
        this.#onWritten?.(at + chunk.length);
      } catch {
        // a watcher's failure is its own; the ingest goes on
      }
      cb();
    }, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void): void {
    this._write(Buffer.concat(chunks.map((c) => c.chunk)), 'binary', cb);
  }

  async commit(expected: Partial<BlobRef> = {}): Promise<BlobRef> {
    if (this.#done) throw new StoreError('INGEST_DONE', `ingest ${this.ref} already committed or aborted`);
    try {
      if (!this.writableFinished) {
        await new Promise<void>((resolve, reject) => {
          if (this.destroyed) return reject(this.errored ?? new Error('writer destroyed'));
          this.once('error', reject);
          this.end(() => resolve());
        });
      }
      if (this.errored) throw this.errored;
      const want = { ...this.#expected, ...expected };
      const digest = this.#hashedBy?.() ?? (`sha256:${this.#hash.digest('hex')}` as Digest);
      if (want.size !== undefined && want.size !== this.#offset) {
        throw sizeError(this.ref, want.size, this.#offset, 'not');
      }
      if (want.digest !== undefined && want.digest !== digest) {
        // `actual` lets a caller that knows where the bytes came from say so (registry/pull.ts).
        throw Object.assign(
          new StoreError(
            'DIGEST_MISMATCH',
            `digest mismatch for ${this.ref}: expected ${want.digest}, got ${digest}`,
            {
              hint: 'the content is not what was promised (corrupt download or wrong digest); nothing was stored',
            },
          ),
          { actual: digest },
        );
      }
      await this.#fh.sync();
      await this.#fh.close();
      const target = `${this.#paths.blobsDir}/${digestHex(digest)}`;
      // An existing blob is success: same digest = same bytes. rename() replaces atomically either way,
      // but keeping the existing file keeps readers' open fds and the blob's age.
      const exists = await fsp.stat(target).then(
        () => true,
        () => false,
      );
      if (!exists) {
        await fsp.rename(this.#paths.data, target);
        await fsyncDir(this.#paths.blobsDir);
      }
      this.#done = true;
      await releaseIngest(this.#paths.dir);
      return { digest, size: this.#offset };
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    if (!this.destroyed) this.destroy();
    await this.#fh.close().catch(() => {});
    await releaseIngest(this.#paths.dir);
  }
}

async function writeAll(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    off += bytesWritten;
  }
}

function sizeError(ref: string, want: number, got: number, how: string): StoreError {
  return new StoreError(
    'SIZE_MISMATCH',
    `size mismatch for ${ref}: expected ${want} bytes, got ${how} ${got}`,
    {
      hint: 'the content is not what was promised; nothing was stored',
    },
  );
}
