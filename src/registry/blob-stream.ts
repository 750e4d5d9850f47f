import { TsbuildError } from '../errors.js';
import { type Descriptor, type ImageReference, referenceName } from '../oci/index.js';
import { isRetryable, type RegistryClient, repoScope } from './client.js';
import { abortError, header } from './http.js';

/**
 * The bytes of a blob as one stream, even across connection resets: after a failure mid-body it
 * asks again with `Range: bytes=N-` and continues (or skips N bytes if the registry ignores Range).
 * Size is enforced here; the store checks the digest of the whole.
 */
export async function* blobStream(
  client: RegistryClient,
  ref: ImageReference,
  desc: Descriptor,
  signal?: AbortSignal,
  onBytes?: (n: number) => void,
): AsyncGenerator<Buffer> {
  let got = 0;
  let failures = 0;
  while (true) {
    let skip = 0;
    try {
      const res = await client.request(ref, {
        method: 'GET',
        path: `/v2/${ref.repository}/blobs/${desc.digest}`,
        headers: got > 0 ? { range: `bytes=${got}-` } : {},
        scopes: [repoScope(ref.repository, 'pull')],
        ok: got > 0 ? [200, 206] : [200],
        retry: true,
        what: `blob ${desc.digest} of ${referenceName(ref)}`,
        ...(signal ? { signal } : {}),
      });
      if (got > 0 && res.status === 200) skip = got;
      else if (got > 0 && !header(res, 'content-range')?.startsWith(`bytes ${got}-`)) {
        res.body.destroy();
        throw new TsbuildError(
          'REGISTRY_ERROR',
          `registry answered a range request for ${desc.digest} with the wrong range`,
        );
      }
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        let c = chunk;
        if (skip > 0) {
          const drop = Math.min(skip, c.length);
          skip -= drop;
          c = c.subarray(drop);
          if (c.length === 0) continue;
        }
        got += c.length;
        if (got > desc.size) {
          res.body.destroy();
          throw new TsbuildError(
            'SIZE_INVALID',
            `blob ${desc.digest} is larger than its descriptor says (${desc.size} bytes)`,
            {
              hint: 'the registry sent different content than the manifest describes',
            },
          );
        }
        onBytes?.(got);
        yield c;
      }
      if (got === desc.size) return;
      throw Object.assign(new Error(`blob ${desc.digest} ended early at ${got} of ${desc.size} bytes`), {
        code: 'ECONNRESET',
      });
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      if (!isRetryable(e) || failures >= client.options.retries) throw e;
      failures++;
      await client.backoff(failures - 1, signal);
    }
  }
}
