import type { Digest } from '../oci/index.js';
import type { LeaseHandle, Store } from '../store/index.js';

/**
 * After an export: lease the image's blobs (manifest, config, layers) and check they are all still
 * there. The exporter reuses blobs already in the store (same digest), which a `prune --all` that
 * started before may remove; once leased (the lease waits for such a gc) a blob that is still
 * present stays. False: something went missing, export again (what it writes now is leased).
 */
export async function leaseImage(store: Store, lease: LeaseHandle, manifestDigest: string): Promise<boolean> {
  const manifest = manifestDigest as Digest;
  await lease.addBlob(manifest);
  if (!(await store.content.has(manifest))) return false;
  const doc = JSON.parse(
    (await store.content.readAt(manifest, 0, (await store.content.info(manifest)).size)).toString('utf8'),
  ) as {
    config?: { digest?: string };
    layers?: { digest?: string }[];
  };
  const blobs = [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)].filter(
    (d): d is Digest => typeof d === 'string',
  );
  for (const d of blobs) await lease.addBlob(d);
  for (const d of blobs) if (!(await store.content.has(d))) return false;
  return true;
}

/** A blob or snapshot removed under a running export (a concurrent prune): worth one more try. */
export function isGoneError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'BLOB_NOT_FOUND' || code === 'SNAPSHOT_NOT_FOUND';
}
