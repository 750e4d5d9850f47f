import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';
import { StoreError } from '../errors.js';
import { toByteString } from './byte-fs.js';
import { ExtractSink } from './extract-sink.js';
import { TarReader } from './tar-reader.js';
import type { ExtractOptions, ExtractResult } from './types.js';

/**
 * Extracts an uncompressed layer tar into `dir`, confined to it: names are cleaned, every parent is
 * resolved inside `dir` (symlinks followed as in a chroot), hardlink targets too, an entry never
 * writes through an existing symlink. Whiteouts apply only to what was there before this layer (OCI
 * image-spec layer.md), whatever their position: 'flat' deletes, 'overlay' records char 0/0 nodes and
 * the opaque xattr for the overlay upper.
 */
export async function extractLayer(
  input: Readable,
  dir: string,
  opts: ExtractOptions,
): Promise<ExtractResult> {
  const x = createExtractor(dir, opts);
  try {
    for await (const chunk of input) x.write(chunk as Buffer);
  } catch (e) {
    x.abort();
    input.destroy();
    throw wrapped(e);
  }
  return x.finish();
}

/** A push extractor (for callers that already hold the chunks: no async iteration per chunk). */
export interface Extractor {
  /** Synchronous; throws LAYER_INVALID / LAYER_UNSAFE errors (then call `abort`). */
  write(chunk: Buffer): void;
  abort(): void;
  /** At the end of the input: fails on a truncated tar, then the deferred work. */
  finish(): Promise<ExtractResult>;
}

export function createExtractor(dir: string, opts: ExtractOptions): Extractor {
  const real = realpathSync(dir);
  const sink = new ExtractSink(toByteString(real), real, opts);
  const reader = new TarReader(sink);
  const hash = createHash('sha256');
  let size = 0;
  return {
    write(chunk) {
      hash.update(chunk);
      size += chunk.length;
      if (!reader.done) reader.write(chunk);
    },
    abort: () => sink.abort(),
    async finish() {
      try {
        reader.end();
      } catch (e) {
        sink.abort();
        throw wrapped(e);
      }
      await sink.finish();
      return { entries: reader.entries, size, diffId: `sha256:${hash.digest('hex')}` as Digest };
    },
  };
}

function wrapped(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  return new StoreError('LAYER_INVALID', `extracting layer failed: ${(e as Error).message}`, { cause: e });
}
