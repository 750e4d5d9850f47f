import { TsbuildError } from '../errors.js';
import { type Descriptor, type ImageReference, referenceName } from '../oci/index.js';
import { isRetryable, type RegistryClient, repoScope } from './client.js';
import { drain, type HttpResponse, header } from './http.js';
import type { RegistryStore } from './types.js';

/** Appends `digest=` to an upload Location without re-encoding what the registry put in its query. */
function withDigestParam(loc: URL, digest: string): URL {
  const s = loc.toString();
  return new URL(`${s}${s.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`);
}

function location(res: HttpResponse): URL {
  const loc = header(res, 'location');
  if (!loc)
    throw new TsbuildError('BLOB_UPLOAD_INVALID', 'registry started an upload without a Location header');
  return new URL(loc, res.url);
}

/** Upload session start: POST …/blobs/uploads/ (optionally with a cross-repo mount). */
export async function startUpload(
  client: RegistryClient,
  ref: ImageReference,
  desc: Descriptor,
  from: string | undefined,
  signal?: AbortSignal,
): Promise<{ mounted: true } | { mounted: false; location: URL; minChunk: number }> {
  const scopes = [repoScope(ref.repository, 'pull,push')];
  let path = `/v2/${ref.repository}/blobs/uploads/`;
  if (from) {
    path += `?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`;
    scopes.push(repoScope(from, 'pull'));
  }
  const res = await client.request(ref, {
    method: 'POST',
    path,
    headers: { 'content-length': '0' },
    body: Buffer.alloc(0),
    scopes,
    ok: [201, 202],
    retry: true,
    what: `start upload of ${desc.digest} to ${referenceName(ref)}`,
    ...(signal ? { signal } : {}),
  });
  await drain(res);
  if (res.status === 201) return { mounted: true };
  const min = Number(header(res, 'oci-chunk-min-length') ?? 0);
  return { mounted: false, location: location(res), minChunk: Number.isFinite(min) ? min : 0 };
}

/** Monolithic upload: one PUT with the whole blob streamed from the store. */
export async function putMonolithic(
  client: RegistryClient,
  store: RegistryStore,
  ref: ImageReference,
  desc: Descriptor,
  loc: URL,
  signal?: AbortSignal,
): Promise<void> {
  const body = await store.content.read(desc.digest);
  const res = await client.request(ref, {
    method: 'PUT',
    path: withDigestParam(loc, desc.digest),
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
    body: () => body,
    scopes: [repoScope(ref.repository, 'pull,push')],
    ok: [201, 204],
    what: `upload of ${desc.digest} to ${referenceName(ref)}`,
    ...(signal ? { signal } : {}),
  });
  await drain(res);
}

function parseRangeEnd(res: HttpResponse): number | undefined {
  const m = /(\d+)-(\d+)/.exec(header(res, 'range') ?? '');
  return m ? Number(m[2]) : undefined;
}

/** GET an upload session: where the registry stopped (its `Range`) and the session's current Location. */
async function uploadStatus(
  client: RegistryClient,
  ref: ImageReference,
  desc: Descriptor,
  loc: URL,
  signal?: AbortSignal,
): Promise<{ loc: URL; offset: number }> {
  const st = await client.request(ref, {
    method: 'GET',
    path: loc,
    scopes: [repoScope(ref.repository, 'pull,push')],
    ok: [204],
    retry: true,
    what: `upload status of ${desc.digest}`,
    ...(signal ? { signal } : {}),
  });
  await drain(st);
  const stopped = parseRangeEnd(st);
  return {
    loc: header(st, 'location') ? location(st) : loc,
    offset: stopped === undefined ? 0 : stopped + 1,
  };
}

/**
 * Chunked upload: PATCH chunks with Content-Range, following each returned Location; on a failure,
 * GET the session to learn where the registry stopped (its `Range`) and resume there.
 */
export async function putChunked(
  client: RegistryClient,
  store: RegistryStore,
  ref: ImageReference,
  desc: Descriptor,
  loc: URL,
  minChunk: number,
  signal?: AbortSignal,
  onBytes?: (n: number) => void,
): Promise<void> {
  const chunk = Math.max(client.options.chunkSize, minChunk);
  const scopes = [repoScope(ref.repository, 'pull,push')];
  const sig = signal ? { signal } : {};
  let offset = 0;
  let failures = 0;
  while (offset < desc.size) {
    const end = Math.min(offset + chunk, desc.size) - 1;
    try {
      const body = await store.content.read(desc.digest, { start: offset, end });
      const res = await client.request(ref, {
        method: 'PATCH',
        path: loc,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${end}`,
          'content-length': String(end - offset + 1),
        },
        body: () => body,
        scopes,
        ok: [202],
        what: `chunk ${offset}-${end} of ${desc.digest}`,
        ...sig,
      });
      await drain(res);
      loc = location(res);
      offset = (parseRangeEnd(res) ?? end) + 1;
      onBytes?.(offset);
    } catch (e) {
      if (signal?.aborted || !isRetryable(e) || failures >= client.options.retries) throw e;
      await client.backoff(failures++, signal);
      ({ loc, offset } = await uploadStatus(client, ref, desc, loc, signal));
    }
  }
  const res = await client.request(ref, {
    method: 'PUT',
    path: withDigestParam(loc, desc.digest),
    headers: { 'content-length': '0' },
    body: Buffer.alloc(0),
    scopes,
    ok: [201, 204],
    retry: true,
    what: `finish upload of ${desc.digest}`,
    ...sig,
  });
  await drain(res);
}
