import type { Store } from '../types.js';
import type { AppliedLayer, ApplyLayerOptions, LayerSource } from './types.js';

/** Applies a layer blob (or stream) on top of `parent`, committing a new snapshot. */
export async function applyLayer(
  _store: Store,
  _source: LayerSource,
  _parent?: string,
  _opts: ApplyLayerOptions = {},
): Promise<AppliedLayer> {
  throw new Error('not implemented');
}
