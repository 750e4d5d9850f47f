import type { Digest } from '../oci/index.js';
import type { LeaseHandle, Store } from '../store/index.js';

/** The part of a manifest that names blobs. */
export interface ManifestBlobs {
  config: { digest: string };
  layers: { digest: string }[];
}

/**
 * After an export: lease the image's blobs (manifest, config, layers) and check they are all still
 * there. The exporter reuses blobs already in the store (same digest), which a `prune --all` that
 * started before may remove; once leased (the lease waits for such a gc) a blob that is still
 * present stays. False: something went missing, export again (what it writes now is leased).
 * With the manifest the export wrote, all go into one lease update and the checks run together.
 */
export async function leaseImage(
  store: Store,
  lease: LeaseHandle,
  manifestDigest: string,
  known?: ManifestBlobs,
): Promise<boolean> {
  const manifest = manifestDigest as Digest;
  let doc = known;
  if (!doc) {
    await lease.addBlob(manifest);
    if (!(await store.content.has(manifest))) return false;
    const size = (await store.content.info(manifest)).size;
    doc = JSON.parse((await store.content.readAt(manifest, 0, size)).toString('utf8')) as ManifestBlobs;
  }
  const blobs = [manifest, doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)].filter(
    (d): d is Digest => typeof d === 'string',
  );
  await Promise.all(blobs.map((d) => lease.addBlob(d)));
  const present = await Promise.all([...new Set(blobs)].map((d) => store.content.has(d)));
  return present.every(Boolean);
}

/** A blob or snapshot removed under a running export (a concurrent prune): worth one more try. */
export function isGoneError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'BLOB_NOT_FOUND' || code === 'SNAPSHOT_NOT_FOUND';
}
