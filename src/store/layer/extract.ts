import type { Readable } from 'node:stream';
import type { ExtractOptions, ExtractResult } from './types.js';

/** Extracts an uncompressed layer tar into `dir`, confined to it. */
export async function extractLayer(
  _input: Readable,
  _dir: string,
  _opts: ExtractOptions,
): Promise<ExtractResult> {
  throw new Error('not implemented');
}
