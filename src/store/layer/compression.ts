import type { Duplex } from 'node:stream';
import type { LayerCompression as Compression } from '../types.js';

/** A transform compressing with `compression` (gzip: parallel deterministic blocks; zstd: worker). */
export function compressStream(_compression: Compression, _opts: { level?: number } = {}): Duplex {
  throw new Error('not implemented');
}

/** A transform decompressing `compression`. */
export function decompressStream(_compression: Compression): Duplex {
  throw new Error('not implemented');
}

/** Sniffs gzip/zstd magic bytes. */
export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'uncompressed';
}
