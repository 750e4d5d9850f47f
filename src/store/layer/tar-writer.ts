import type { Writable } from 'node:stream';
import type { LayerTarOptions, LayerTarResult } from './types.js';

/** Writes the OCI layer tar of a diff dir to `out`. */
export async function writeLayerTar(
  _diffDir: string,
  _out: Writable,
  _opts: LayerTarOptions = {},
): Promise<LayerTarResult> {
  throw new Error('not implemented');
}
