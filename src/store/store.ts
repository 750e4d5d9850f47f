import type { OpenStoreOptions, Store } from './types.js';

export async function openStore(_root: string, _opts: OpenStoreOptions = {}): Promise<Store> {
  throw new Error('not implemented');
}
