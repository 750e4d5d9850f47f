import type { Readable } from 'node:stream';
import { TsbuildError } from '../errors.js';
import {
  type Descriptor,
  type Digest,
  formatPlatform,
  hostPlatform,
  type ImageIndex,
  type ImageManifest,
  type ImageReference,
  isDigest,
  MANIFEST_ACCEPT,
  MediaType,
  parseImageConfig,
  parseManifestOrIndex,
  platformMatches,
  referenceName,
  selectPlatform,
  sha256Digest,
  withDigest,
} from '../oci/index.js';
import { recordBlobSource } from './blob-sources.js';
import { blobReadable } from './blob-stream.js';
import { type RegistryClient, repoScope } from './client.js';
import { header, readSmall } from './http.js';
import { mapLimit, uniqueByDigest } from './limit.js';
import type { PullOptions, PullResult, RegistryStore, TransferProgress } from './types.js';

export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  parsed: ReturnType<typeof parseManifestOrIndex>;
}

const MAX_MANIFEST = 4 * 1024 * 1024;

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
    what: `manifest ${referenceName(ref)}:${target}`,
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

/** Downloads one blob into the store unless it is there; the store verifies size and digest. */
export async function pullBlob(
  client: RegistryClient,
  store: RegistryStore,
  ref: ImageReference,
  desc: Descriptor,
  signal?: AbortSignal,
  onProgress?: TransferProgress,
): Promise<void> {
  const id = shortId(desc.digest);
  if (await store.content.has(desc.digest)) {
    onProgress?.({ id, current: desc.size, total: desc.size, status: 'exists' });
    return;
  }
  const src = blobReadable(client, ref, desc, signal, (n) =>
    onProgress?.({ id, current: n, total: desc.size, status: 'downloading' }),
  );
  try {
    await store.content.ingest(src, { digest: desc.digest, size: desc.size });
  } catch (e) {
    src.destroy();
    throw e;
  }
  await recordBlobSource(store, desc.digest, referenceName(ref));
  onProgress?.({ id, current: desc.size, total: desc.size, status: 'done' });
}

/**
 * Pulls an image: manifest (index → the wanted platform), config, layers in parallel (bounded),
 * every byte verified into the store; nothing is downloaded that the store has.
 */
export async function pullImage(
  client: RegistryClient,
  store: RegistryStore,
  ref: ImageReference,
  opts: PullOptions = {},
): Promise<PullResult> {
  const { signal, onProgress } = opts;
  const top = await fetchManifest(client, ref, undefined, signal);
  let index: { descriptor: Descriptor; index: ImageIndex } | undefined;
  let m = top;
  if (top.parsed.kind === 'index') {
    index = { descriptor: top.descriptor, index: top.parsed.index };
    const entry = selectPlatform(top.parsed.index, opts.platform ?? hostPlatform(), referenceName(ref));
    m = await fetchManifest(client, ref, entry.digest, signal);
    if (m.parsed.kind !== 'manifest')
      throw new TsbuildError('INVALID_MANIFEST', `index entry ${entry.digest} is not an image manifest`);
    await store.content.ingest(top.bytes, { digest: top.descriptor.digest, size: top.descriptor.size });
  }
  if (m.parsed.kind !== 'manifest') throw new TsbuildError('INVALID_MANIFEST', 'expected an image manifest');
  const manifest: ImageManifest = m.parsed.manifest;
  if (manifest.config.size > MAX_MANIFEST) {
    // Checked before downloading: a hostile manifest must not make us fetch gigabytes of "config".
    throw new TsbuildError('INVALID_MANIFEST', `image config of ${manifest.config.size} bytes is too large`);
  }
  await pullBlob(client, store, ref, manifest.config, signal, onProgress);
  const configBytes = await readAll(await store.content.read(manifest.config.digest), MAX_MANIFEST);
  const config = parseImageConfig(configBytes);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new TsbuildError(
      'INVALID_MANIFEST',
      `image has ${manifest.layers.length} layers but its config lists ${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
  if (
    !index &&
    opts.platform &&
    opts.requirePlatform &&
    !platformMatches(opts.platform, {
      os: config.os,
      architecture: config.architecture,
      ...(config.variant ? { variant: config.variant } : {}),
    })
  ) {
    // A single-platform image asked for another platform: Docker refuses too, rather than run the wrong arch.
    throw new TsbuildError(
      'PLATFORM_NOT_FOUND',
      `${referenceName(ref)} is ${formatPlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) })}, not ${formatPlatform(opts.platform)}`,
      {
        hint: 'the image is single-platform; pull it without --platform or pick an image built for that platform',
      },
    );
  }
  for (const l of manifest.layers)
    onProgress?.({ id: shortId(l.digest), current: 0, total: l.size, status: 'waiting' });
  await mapLimit(uniqueByDigest(manifest.layers), client.options.concurrency, (l) =>
    pullBlob(client, store, ref, l, signal, onProgress),
  );
  // The manifest goes in last: its presence means the whole image is here.
  await store.content.ingest(m.bytes, { digest: m.descriptor.digest, size: m.descriptor.size });
  return {
    ref: withDigest(ref, index ? index.descriptor.digest : m.descriptor.digest),
    manifestDescriptor: m.descriptor,
    manifest,
    config,
    configDigest: manifest.config.digest as Digest,
    ...(index ? { index } : {}),
  };
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
