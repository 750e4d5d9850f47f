import { TsbuildError } from '../errors.js';
import {
  type Descriptor,
  type Digest,
  type ImageReference,
  isIndexMediaType,
  parseManifestOrIndex,
  referenceName,
} from '../oci/index.js';
import { blobSources, recordBlobSource } from './blob-sources.js';
import { isRetryable, type RegistryClient, repoScope } from './client.js';
import { drain, header } from './http.js';
import { mapLimit, uniqueByDigest } from './limit.js';
import { manifestName, readAll } from './pull.js';
import type { PushOptions, PushResult, RegistryStore } from './types.js';
import { putChunked, putMonolithic, startUpload } from './upload.js';

interface Counters {
  uploaded: number;
  skipped: number;
  mounted: number;
}

/** Whether `ref`'s repository has the blob (HEAD). */
export async function blobExists(
  client: RegistryClient,
  ref: ImageReference,
  digest: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const res = await client.request(ref, {
    method: 'HEAD',
    path: `/v2/${ref.repository}/blobs/${digest}`,
    scopes: [repoScope(ref.repository, 'pull,push')],
    ok: [200, 404],
    retry: true,
    what: `blob ${digest} on ${referenceName(ref)}`,
    ...(signal ? { signal } : {}),
  });
  await drain(res);
  return res.status === 200;
}

/** One blob: HEAD, else mount from a sibling repository, else upload (monolithic or chunked), with retries. */
async function pushBlob(
  client: RegistryClient,
  store: RegistryStore,
  ref: ImageReference,
  desc: Descriptor,
  n: Counters,
  opts: PushOptions,
): Promise<void> {
  const id = desc.digest.slice(7, 19);
  const { signal, onProgress } = opts;
  if (await blobExists(client, ref, desc.digest, signal)) {
    n.skipped++;
    await recordBlobSource(store, desc.digest, referenceName(ref));
    onProgress?.({ id, current: desc.size, total: desc.size, status: 'exists' });
    return;
  }
  const prefix = `${ref.registry}/`;
  const from = (await blobSources(store, desc.digest))
    .find((s) => s.startsWith(prefix) && s !== referenceName(ref))
    ?.slice(prefix.length);
  for (let attempt = 0; ; attempt++) {
    try {
      const start = await startUpload(client, ref, desc, attempt === 0 ? from : undefined, signal);
      if (start.mounted) {
        n.mounted++;
        onProgress?.({ id, current: desc.size, total: desc.size, status: 'mounted' });
        break;
      }
      onProgress?.({ id, current: 0, total: desc.size, status: 'uploading' });
      if (desc.size <= client.options.chunkThreshold)
        await putMonolithic(client, store, ref, desc, start.location, signal);
      else
        await putChunked(client, store, ref, desc, start.location, start.minChunk, signal, (b) =>
          onProgress?.({ id, current: b, total: desc.size, status: 'uploading' }),
        );
      n.uploaded++;
      break;
    } catch (e) {
      if (signal?.aborted || !isRetryable(e) || attempt >= client.options.retries) throw e;
      onProgress?.({ id, current: 0, total: desc.size, status: 'retrying' });
      await client.backoff(attempt, signal);
    }
  }
  await recordBlobSource(store, desc.digest, referenceName(ref));
  onProgress?.({ id, current: desc.size, total: desc.size, status: 'done' });
}

async function putManifest(
  client: RegistryClient,
  ref: ImageReference,
  reference: string,
  desc: Descriptor,
  bytes: Buffer,
  signal?: AbortSignal,
): Promise<void> {
  const res = await client.request(ref, {
    method: 'PUT',
    path: `/v2/${ref.repository}/manifests/${reference}`,
    headers: { 'content-type': desc.mediaType },
    body: bytes,
    scopes: [repoScope(ref.repository, 'pull,push')],
    ok: [201, 200, 202],
    retry: true,
    what: `manifest ${manifestName(ref, reference)}`,
    ...(signal ? { signal } : {}),
  });
  await drain(res);
  const stored = header(res, 'docker-content-digest');
  if (stored && stored !== desc.digest) {
    throw new TsbuildError('DIGEST_MISMATCH', `registry stored manifest ${desc.digest} as ${stored}`, {
      hint: 'the registry rewrote the manifest (an old registry converting media types?); pull by tag to see what it holds',
    });
  }
}

async function readDoc(store: RegistryStore, desc: Descriptor): Promise<Buffer> {
  if (!(await store.content.has(desc.digest))) {
    throw new TsbuildError('BLOB_NOT_FOUND', `manifest ${desc.digest} is not in the local store`, {
      hint: 'pull or build the image first',
    });
  }
  return readAll(await store.content.read(desc.digest), 4 * 1024 * 1024);
}

/** Pushes one image manifest's blobs (bounded parallel) then the manifest, under `reference`. */
async function pushManifest(
  client: RegistryClient,
  store: RegistryStore,
  ref: ImageReference,
  desc: Descriptor,
  reference: string,
  n: Counters,
  opts: PushOptions,
): Promise<void> {
  const bytes = await readDoc(store, desc);
  const parsed = parseManifestOrIndex(bytes, desc.mediaType);
  if (parsed.kind !== 'manifest')
    throw new TsbuildError('INVALID_MANIFEST', `${desc.digest} is not an image manifest`);
  // The same blob twice (identical layers) is pushed once.
  const blobs = uniqueByDigest([parsed.manifest.config, ...parsed.manifest.layers]);
  await mapLimit(blobs, client.options.concurrency, (b) => pushBlob(client, store, ref, b, n, opts));
  await putManifest(client, ref, reference, desc, bytes, opts.signal);
}

/**
 * Pushes an image (manifest or index) from the store to `dest`: blobs first (HEAD, mount, upload),
 * then each manifest, then the index, so the registry never sees a dangling reference.
 */
export async function pushImage(
  client: RegistryClient,
  store: RegistryStore,
  desc: Descriptor,
  dest: ImageReference,
  opts: PushOptions = {},
): Promise<PushResult> {
  const n: Counters = { uploaded: 0, skipped: 0, mounted: 0 };
  const reference = dest.tag ?? desc.digest;
  if (dest.digest && dest.digest !== desc.digest) {
    throw new TsbuildError('DIGEST_MISMATCH', `cannot push ${desc.digest} as ${dest.digest}`, {
      hint: 'push to a tag, not a different digest',
    });
  }
  if (isIndexMediaType(desc.mediaType)) {
    const bytes = await readDoc(store, desc);
    const parsed = parseManifestOrIndex(bytes, desc.mediaType);
    if (parsed.kind !== 'index') throw new TsbuildError('INVALID_MANIFEST', `${desc.digest} is not an index`);
    for (const m of parsed.index.manifests) await pushManifest(client, store, dest, m, m.digest, n, opts);
    await putManifest(client, dest, reference, desc, bytes, opts.signal);
  } else {
    await pushManifest(client, store, dest, desc, reference, n, opts);
  }
  return { ref: { ...dest, digest: desc.digest as Digest }, digest: desc.digest, ...n };
}
