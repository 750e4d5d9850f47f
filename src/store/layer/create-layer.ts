import type { Store } from '../types.js';
import type { CompressedLayer, CreateLayerOptions } from './types.js';

/** The layer blob of a committed snapshot, compressed once per codec and remembered. */
export async function createLayer(
  _store: Store,
  _snapshot: string,
  _opts: CreateLayerOptions = {},
): Promise<CompressedLayer> {
  throw new Error('not implemented');
}
