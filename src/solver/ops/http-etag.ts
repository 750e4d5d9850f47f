import { header } from '../../registry/http.js';
import { httpGet } from '../../registry/http-get.js';
import type { SolverEnv } from './env.js';

// BuildKit's http source remembers the ETag of each URL it downloaded: the next build asks the
// server with a HEAD and If-None-Match, and when the server says the content is the same (304, or
// 200 with that ETag) the cache key comes from the remembered digest, with no download.

/** What a download of a URL left for the next build. */
export interface UrlRecord {
  etag: string;
  digest: string;
  /** Last-Modified, as ms since the epoch. */
  lastModified?: number;
}

// The store's small-file area (its stat cache's), under a key no context path can take.
const keyOf = (url: string) => `http-etag\0${url}`;

export async function rememberUrl(env: SolverEnv, url: string, rec: UrlRecord): Promise<void> {
  await env.store.meta.statCache.write(keyOf(url), Buffer.from(JSON.stringify(rec)));
}

/** The remembered download when the server says it is still current; else undefined (then GET). */
export async function revalidateUrl(
  env: SolverEnv,
  url: string,
  signal: AbortSignal,
): Promise<UrlRecord | undefined> {
  const data = await env.store.meta.statCache.read(keyOf(url)).catch(() => undefined);
  if (!data) return undefined;
  let rec: UrlRecord;
  try {
    rec = JSON.parse(data.toString('utf8')) as UrlRecord;
  } catch {
    return undefined;
  }
  if (typeof rec.etag !== 'string' || typeof rec.digest !== 'string') return undefined;
  try {
    const res = await httpGet(url, { method: 'HEAD', headers: { 'if-none-match': rec.etag }, signal });
    res.body.resume();
    // A 304 without an ETag answers the one ETag that was asked about.
    const etag = header(res, 'etag') ?? (res.status === 304 ? rec.etag : undefined);
    return (res.status === 200 || res.status === 304) && etag === rec.etag ? rec : undefined;
  } catch {
    signal.throwIfAborted();
    // A server that refuses HEAD is asked with a GET, as BuildKit does.
    return undefined;
  }
}
