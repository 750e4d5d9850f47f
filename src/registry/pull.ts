import type { Readable } from 'node:stream';
import { TsbuildError } from '../errors.js';
import {
  type Descriptor,
  type ImageReference,
  isDigest,
  MANIFEST_ACCEPT,
  MediaType,
  parseManifestOrIndex,
  referenceName,
  sha256Digest,
} from '../oci/index.js';
import { recordBlobSource } from './blob-sources.js';
import { blobReadable } from './blob-stream.js';
import { type RegistryClient, repoScope } from './client.js';
import { header, readSmall } from './http.js';
import type { LayerFeed } from './layer-feed.js';
import type { RegistryStore, TransferProgress } from './types.js';

export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  parsed: ReturnType<typeof parseManifestOrIndex>;
}

/** A manifest as it is asked for: `host/repo:tag`, or `host/repo@sha256:…` by digest. */
export function manifestName(ref: ImageReference, target: string): string {
  return `${referenceName(ref)}${isDigest(target) ? '@' : ':'}${target}`;
}

export const MAX_MANIFEST = 4 * 1024 * 1024;

/** GET a manifest by tag or digest (Accept: OCI and Docker); verifies the digest it claims or was asked for. */
export async function fetchManifest(
  client: RegistryClient,
  ref: ImageReference,
  reference?: string,
  signal?: AbortSignal,
): Promise<FetchedManifest> {
  const target = reference ?? ref.digest ?? ref.tag ?? 'latest';
  const res = await client.request(ref, {
    method: 'GET',
    path: `/v2/${ref.repository}/manifests/${target}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: [repoScope(ref.repository, 'pull')],
    ok: [200],
    retry: true,
    what: `manifest ${manifestName(ref, target)}`,
    ...(signal ? { signal } : {}),
  });
  const bytes = await readSmall(res, MAX_MANIFEST);
  const digest = sha256Digest(bytes);
  const claimed = header(res, 'docker-content-digest');
  if (isDigest(target) && digest !== target) {
    throw new TsbuildError('DIGEST_MISMATCH', `registry sent manifest ${digest} for ${target}`, {
      hint: 'the registry or a proxy corrupted the manifest',
    });
  }
  if (claimed && isDigest(claimed) && claimed !== digest) {
    throw new TsbuildError(
      'DIGEST_MISMATCH',
      `manifest digest ${digest} differs from Docker-Content-Digest ${claimed}`,
    );
  }
  const contentType = header(res, 'content-type')?.split(';')[0]?.trim();
  const parsed = parseManifestOrIndex(bytes, contentType);
  const doc = parsed.kind === 'index' ? parsed.index : parsed.manifest;
  const mediaType =
    doc.mediaType ??
    (contentType && contentType !== 'application/json'
      ? contentType
      : parsed.kind === 'index'
        ? MediaType.ociIndex
        : MediaType.ociManifest);
  return { descriptor: { mediaType, digest, size: bytes.length }, bytes, parsed };
}

/** Resolves a reference to its manifest (or index) descriptor. */
export async function resolve(
  client: RegistryClient,
  ref: ImageReference,
  signal?: AbortSignal,
): Promise<Descriptor> {
  return (await fetchManifest(client, ref, undefined, signal)).descriptor;
}

function shortId(d: string): string {
  return d.slice(7, 19);
}

/**
 * Downloads one blob into the store unless it is there; the store verifies size and digest. `feed`
 * watches the bytes land (and is settled either way).
 */
export async function pullBlob(
  client: RegistryClient,
  store: RegistryStore,
  ref: ImageReference,
  desc: Descriptor,
  signal?: AbortSignal,
  onProgress?: TransferProgress,
  feed?: LayerFeed,
): Promise<void> {
  const id = shortId(desc.digest);
  try {
    if (await store.content.has(desc.digest)) {
      onProgress?.({ id, current: desc.size, total: desc.size, status: 'exists' });
      return;
    }
    const src = blobReadable(client, ref, desc, signal, (n) =>
      onProgress?.({ id, current: n, total: desc.size, status: 'downloading' }),
    );
    try {
      await store.content.ingest(src, { digest: desc.digest, size: desc.size }, feed);
    } catch (e) {
      src.destroy();
      throw lied(e, desc, ref);
    }
  } finally {
    feed?.settle();
  }
  await recordBlobSource(store, desc.digest, referenceName(ref));
  onProgress?.({ id, current: desc.size, total: desc.size, status: 'done' });
}

/** The store's digest error, told as what it is here: the registry sent other bytes than the manifest names. */
function lied(e: unknown, desc: Descriptor, ref: ImageReference): unknown {
  const actual =
    (e as { code?: string; actual?: string }).code === 'DIGEST_MISMATCH' && (e as { actual?: string }).actual;
  if (!actual) return e;
  return new TsbuildError(
    'DIGEST_MISMATCH',
    `blob ${desc.digest} of ${referenceName(ref)}: the registry sent content with digest ${actual}`,
    {
      hint: 'the registry (or a proxy) sent different content than the manifest describes; nothing was stored',
      cause: e,
    },
  );
}

/**
 * A small blob (an image config) straight into memory, verified there: the caller needs its bytes at
 * once and the store's fsync need not be waited for.
 */
export async function fetchSmallBlob(
  client: RegistryClient,
  ref: ImageReference,
  desc: Descriptor,
  max: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const bytes = await readAll(blobReadable(client, ref, desc, signal), max);
  const digest = sha256Digest(bytes);
  if (bytes.length !== desc.size || digest !== desc.digest) {
    throw new TsbuildError(
      'DIGEST_MISMATCH',
      `blob ${desc.digest} of ${referenceName(ref)}: got ${bytes.length} bytes with digest ${digest}`,
      { hint: 'the registry sent different content than the manifest describes' },
    );
  }
  return bytes;
}

export async function readAll(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      stream.destroy();
      throw new TsbuildError('BLOB_TOO_LARGE', `document larger than ${max} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
