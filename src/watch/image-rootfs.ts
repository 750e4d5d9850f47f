import { createHash } from 'node:crypto';
import { TsbuildError } from '../errors.js';
import type { Descriptor, Digest, ImageConfig } from '../oci/index.js';
import { applyLayer, type Store } from '../store/index.js';

/** containerd's chain IDs: the first layer's diffID, then sha256("<parent chain> <diffID>"). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const parent = out.at(-1);
    out.push(parent ? `sha256:${createHash('sha256').update(`${parent} ${d}`).digest('hex')}` : d);
  }
  return out;
}

/**
 * The committed snapshot holding an image's root filesystem: its layers applied as a chain of
 * snapshots named by chain ID, so layers a previous run (or a FROM of the same base) applied are
 * reused, and only new ones are extracted from their blobs.
 */
export async function imageRootfs(
  store: Store,
  manifest: { layers: Descriptor[] },
  config: ImageConfig,
  signal?: AbortSignal,
): Promise<string> {
  const diffIds = config.rootfs.diff_ids;
  if (manifest.layers.length === 0)
    throw new TsbuildError('RUN_NO_ROOTFS', 'the image has no layers: there is nothing to run', {
      hint: 'add a COPY or RUN to the final stage',
    });
  const chain = chainIds(diffIds);
  let parent: string | undefined;
  for (const [i, layer] of manifest.layers.entries()) {
    signal?.throwIfAborted();
    const name = chain[i] as string;
    const existing = await store.snapshots.tryStat(name);
    if (existing?.kind === 'committed') {
      parent = name;
      continue;
    }
    const applied = await applyLayer(store, layer.digest as Digest, parent, {
      mediaType: layer.mediaType,
      expectedDigest: layer.digest as Digest,
      ...(diffIds[i] ? { expectedDiffId: diffIds[i] as Digest } : {}),
    });
    parent = applied.snapshot;
  }
  return parent as string;
}
