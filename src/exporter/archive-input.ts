import type { Readable } from 'node:stream';
import { TsbuildError } from '../errors.js';
import { chain, decompressStream, sniffCompression, toolDecompress } from '../store/index.js';

/**
 * The tar inside `input`: `docker load` takes an archive plain or compressed with gzip, bzip2, xz
 * or zstd (moby's DecompressStream sniffs the same magic numbers).
 */
export async function decompressedArchive(input: Readable): Promise<Readable> {
  const kind = sniffCompression(await peek(input, 6));
  if (kind === undefined) return input;
  if (kind === 'gzip' || kind === 'zstd') return chain(input, decompressStream(kind));
  const failed = (why: string) => new TsbuildError('ARCHIVE_INVALID', `not a readable image archive: ${why}`);
  return toolDecompress(kind, input, failed);
}

/** The first `n` bytes, put back for the reader that follows. */
function peek(input: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    const off = () => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', reject);
    };
    const onReadable = () => {
      for (let c = input.read() as Buffer | null; c !== null; c = len < n ? input.read() : null) {
        chunks.push(c);
        len += c.length;
      }
      if (len < n) return;
      off();
      const b = Buffer.concat(chunks);
      input.unshift(b);
      resolve(b.subarray(0, n));
    };
    // A tar is two 512-byte blocks at least: a few bytes are no archive of any kind.
    const onEnd = () => {
      off();
      reject(new TsbuildError('ARCHIVE_INVALID', `not an image archive: the input ends after ${len} bytes`));
    };
    input.on('readable', onReadable);
    input.once('end', onEnd);
    input.once('error', reject);
  });
}
