import { readSync } from 'node:fs';
import { Readable } from 'node:stream';

/** A file another thread is still writing, read as it grows (see `followFile`). */
export interface FollowedFile {
  stream: Readable;
  /** `bytes` from offset 0 are on disk (a prefix: the writer writes in order). */
  grew(bytes: number): void;
  /** The file is complete at `bytes`. */
  ended(bytes: number): void;
}

const CHUNK = 1 << 20;

/**
 * Reads open file `fd` up to the length the writer has announced, then waits for more: the unpacker
 * follows a layer's download through the store's ingest file instead of waiting for its commit. The
 * reads are synchronous (page cache, at most 1 MiB each): the worker's extraction is synchronous
 * anyway, and there is then no read in flight when the worker is terminated. The fd is the caller's
 * to close. A file shorter than announced is an error, not an early end.
 */
export function followFile(fd: number, bytes = 0): FollowedFile {
  let avail = bytes;
  let pos = 0;
  let done = false;
  let waiting = false;
  const pump = () => {
    if (pos < avail) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, avail - pos));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, pos);
      } catch (e) {
        stream.destroy(e as Error);
        return;
      }
      if (n === 0) {
        stream.destroy(new Error(`layer file ends at ${pos} bytes, ${avail} were written`));
        return;
      }
      pos += n;
      stream.push(n === buf.length ? buf : buf.subarray(0, n));
    } else if (done) stream.push(null);
    else waiting = true;
  };
  const stream = new Readable({ highWaterMark: CHUNK, read: pump });
  const wake = () => {
    if (!waiting) return;
    waiting = false;
    pump();
  };
  return {
    stream,
    grew(n) {
      avail = Math.max(avail, n);
      wake();
    },
    ended(n) {
      avail = n;
      done = true;
      wake();
    },
  };
}
