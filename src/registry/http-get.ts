import { firstLine, TsbuildError } from '../errors.js';
import { drain, type HttpResponse, httpRequest } from './http.js';

// A plain GET or HEAD of any URL (ADD <url>, a URL build context), on the registry client's HTTP
// stack rather than fetch(): fetch refuses the Fetch standard's "bad ports" (1, 22, 25, 6000,
// 6665-6669, 10080, ...), where BuildKit's Go client connects, and it reads the system CA bundle
// and certs.d the same way for both. Redirects are followed as Go's http.Client follows them.

const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// No bytes for this long fails the download (Go's client has no timeout; a stalled server should).
const IDLE_TIMEOUT_MS = 5 * 60_000;

export interface HttpGetOptions {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The final response, its body a stream for the caller to read or drain. */
export async function httpGet(url: string, o: HttpGetOptions = {}): Promise<HttpResponse> {
  let at = parseUrl(url);
  for (let hop = 0; ; hop++) {
    const res = await httpRequest({
      method: o.method ?? 'GET',
      url: at,
      // As the registry client names itself (BuildKit sends its own; some servers refuse none).
      headers: { 'user-agent': 'tsbuild/0.1', ...o.headers },
      ...(o.signal ? { signal: o.signal } : {}),
      timeoutMs: IDLE_TIMEOUT_MS,
    });
    const location = res.headers.location;
    if (!REDIRECTS.has(res.status) || !location) return res;
    await drain(res);
    if (hop >= MAX_REDIRECTS) throw new TsbuildError('HTTP_REDIRECTS', `${url}: stopped after 10 redirects`);
    at = new URL(location, at);
    if (at.protocol !== 'http:' && at.protocol !== 'https:')
      throw new TsbuildError('HTTP_REDIRECTS', `${url}: redirected to ${at.protocol} URL`);
  }
}

/**
 * A GET whose failure to connect (not a cancellation) is `fail`'s error, given the reason: undici
 * and Node say "fetch failed" or "connect ECONNREFUSED …" without the URL.
 */
export function httpGetOr(
  url: string,
  signal: AbortSignal,
  fail: (why: string, cause: unknown) => Error,
): Promise<HttpResponse> {
  return httpGet(url, { signal }).catch((e: unknown) => {
    signal.throwIfAborted();
    throw fail(firstLine(e), e);
  });
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new TsbuildError('INVALID_URL', `invalid URL: ${url}`);
  }
}
