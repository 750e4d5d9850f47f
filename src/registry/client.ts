import { setTimeout as sleep } from 'node:timers/promises';
import { TsbuildError } from '../errors.js';
import type { ImageReference } from '../oci/index.js';
import { HostAuth } from './auth.js';
import { getCredentials } from './docker-config.js';
import { isRetryable, looksLikeTls, REGISTRY_ANSWERS, RETRY_STATUS } from './failures.js';
import { abortError, drain, type HttpResponse, httpRequest, readSmall } from './http.js';
import { RegistryError, registryErrorFrom } from './registry-error.js';

export { isRetryable };

import type { RegistryOptions } from './types.js';

export interface ClientRequest {
  method: string;
  /** A path under the registry (`/v2/…`) or an absolute URL (upload Locations, redirects). */
  path: string | URL;
  headers?: Record<string, string>;
  /** A buffer (replayable) or a factory of a fresh body for each attempt. */
  body?: Buffer | (() => NodeJS.ReadableStream & import('node:stream').Readable);
  scopes: string[];
  signal?: AbortSignal;
  /** Statuses returned to the caller instead of thrown. */
  ok: number[];
  /** Retry 5xx/resets/timeouts (idempotent requests only). */
  retry?: boolean;
  what: string;
}

/** Plain HTTP for localhost, 127.0.0.0/8, ::1 and configured insecure registries (as Docker). */
export function isInsecureHost(host: string, insecure: string[] = []): boolean {
  const h = host.replace(/:\d+$/, '');
  if (h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h)) return true;
  return insecure.includes(host) || insecure.includes(h);
}

/** The API endpoint of a registry name: Docker Hub's API is registry-1.docker.io. */
export function registryEndpoint(registry: string, insecure: string[] = []): URL {
  const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
  return new URL(`${isInsecureHost(registry, insecure) ? 'http' : 'https'}://${host}`);
}

/**
 * Speaks the distribution spec to registries: one HostAuth per registry, retries with backoff on
 * 5xx/reset/timeout, one token refresh on a 401, redirects followed without leaking credentials.
 */
export class RegistryClient {
  readonly options: Required<Omit<RegistryOptions, 'dockerConfigDir'>> & { dockerConfigDir?: string };
  private readonly auths = new Map<string, HostAuth>();
  private readonly pinged = new Map<string, Promise<void>>();
  requestCount = 0;

  constructor(options: RegistryOptions = {}) {
    this.options = {
      // TSBUILD_INSECURE_REGISTRIES=host:port,host2 reaches the same setting from any command or the library.
      insecureRegistries: [
        ...(options.insecureRegistries ?? []),
        ...(process.env.TSBUILD_INSECURE_REGISTRIES ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ],
      concurrency: options.concurrency ?? 4,
      chunkThreshold: options.chunkThreshold ?? 16 * 1024 * 1024,
      chunkSize: options.chunkSize ?? 16 * 1024 * 1024,
      retries: options.retries ?? 4,
      retryBaseMs: options.retryBaseMs ?? 200,
      timeoutMs: options.timeoutMs ?? 60_000,
      userAgent: options.userAgent ?? 'tsbuild/0.1',
      certsDir: options.certsDir ?? '/etc/docker/certs.d',
      ...(options.dockerConfigDir ? { dockerConfigDir: options.dockerConfigDir } : {}),
    };
  }

  /** Insecure registries found to speak TLS: reached over HTTPS without certificate checks (as Docker). */
  private readonly tlsFallback = new Set<string>();

  endpoint(registry: string): URL {
    if (this.tlsFallback.has(registry)) return new URL(`https://${registry}`);
    return registryEndpoint(registry, this.options.insecureRegistries);
  }

  private insecureTls(registry: string): boolean {
    return this.tlsFallback.has(registry);
  }

  hostAuth(registry: string): HostAuth {
    let a = this.auths.get(registry);
    if (!a) {
      a = new HostAuth(
        registry,
        () => getCredentials(registry, this.options.dockerConfigDir),
        this.options.timeoutMs,
        this.options.userAgent,
        this.endpoint(registry).protocol === 'https:',
        (h) => isInsecureHost(h, this.options.insecureRegistries),
        this.options.certsDir,
      );
      this.auths.set(registry, a);
    }
    return a;
  }

  /** GET /v2/ once per registry: learns whether and how it wants authentication. */
  ping(registry: string, signal?: AbortSignal): Promise<void> {
    let p = this.pinged.get(registry);
    if (!p) {
      p = this.doPing(registry, signal);
      this.pinged.set(registry, p);
      p.catch(() => this.pinged.delete(registry));
    }
    return p;
  }

  /**
   * An insecure registry is tried over plain HTTP first; if it turns out to speak TLS (Go's "HTTP
   * request to an HTTPS server" 400, or a reset), HTTPS without certificate checks, as Docker does.
   */
  private async doPing(registry: string, signal?: AbortSignal): Promise<void> {
    let res: HttpResponse;
    try {
      res = await this.pingOnce(registry, signal);
    } catch (e) {
      if (!this.canFallBack(registry) || !looksLikeTls(e)) throw e;
      this.tlsFallback.add(registry);
      res = await this.pingOnce(registry, signal).catch(() => {
        this.tlsFallback.delete(registry);
        throw e;
      });
    }
    if (res.status === 400 && this.canFallBack(registry)) {
      const body = await readSmall(res, 4096).catch(() => Buffer.alloc(0));
      if (/https/i.test(body.toString('utf8'))) {
        this.tlsFallback.add(registry);
        return this.doPing(registry, signal);
      }
    }
    await drain(res);
    if (res.status === 401) this.hostAuth(registry).learn(res);
    else if (res.status !== 200)
      throw new RegistryError(
        res.status,
        'REGISTRY_UNAVAILABLE',
        `registry ${registry} answered /v2/ with HTTP ${res.status}`,
        { hint: 'is this a container registry (distribution spec v2)?' },
      );
  }

  private canFallBack(registry: string): boolean {
    return !this.tlsFallback.has(registry) && this.endpoint(registry).protocol === 'http:';
  }

  private async pingOnce(registry: string, signal?: AbortSignal): Promise<HttpResponse> {
    const url = new URL('/v2/', this.endpoint(registry));
    for (let attempt = 0; ; attempt++) {
      try {
        this.requestCount++;
        const res = await httpRequest({
          method: 'GET',
          url,
          headers: { 'user-agent': this.options.userAgent },
          timeoutMs: this.options.timeoutMs,
          certsDir: this.options.certsDir,
          insecureTls: this.insecureTls(registry),
          ...(signal ? { signal } : {}),
        });
        if (!RETRY_STATUS.has(res.status) || attempt >= this.options.retries) return res;
        await drain(res);
      } catch (e) {
        if (signal?.aborted || !isRetryable(e) || attempt >= this.options.retries) {
          throw new TsbuildError(
            'REGISTRY_UNREACHABLE',
            `cannot reach registry ${registry} (${url.origin}): ${(e as Error).message}`,
            {
              cause: e,
              hint:
                url.protocol === 'https:'
                  ? `if ${registry} speaks plain HTTP or uses a private CA, pass --insecure-registry ${registry}`
                  : 'is the registry running?',
            },
          );
        }
      }
      await this.backoff(attempt, signal);
    }
  }

  async backoff(attempt: number, signal?: AbortSignal): Promise<void> {
    const ms = this.options.retryBaseMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
    await sleep(Math.min(ms, 10_000), undefined, signal ? { signal } : undefined).catch(() => {
      throw abortError(signal!);
    });
  }

  /**
   * One request with auth, retries and redirects. Statuses outside `ok` become RegistryErrors.
   * A registry not pinged yet gets a bodiless GET/HEAD straight away, once and without retries:
   * its 401 teaches the challenge as `/v2/` would, and a round trip is saved on every cold pull.
   * Any failure that may not be the registry's own answer goes through the ping, whose errors and
   * TLS fallback are the clear ones, and the request is then sent the usual way.
   */
  async request(ref: Pick<ImageReference, 'registry'>, req: ClientRequest): Promise<HttpResponse> {
    const registry = ref.registry;
    if (
      !this.pinged.has(registry) &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      req.body === undefined
    ) {
      try {
        const res = await this.authed(registry, { ...req, retry: false });
        this.pinged.set(registry, Promise.resolve());
        return res;
      } catch (e) {
        if (req.signal?.aborted) throw abortError(req.signal);
        if (e instanceof RegistryError && REGISTRY_ANSWERS.has(e.code) && e.status !== 400) {
          this.pinged.set(registry, Promise.resolve());
          throw e;
        }
      }
    }
    await this.ping(registry, req.signal);
    return this.authed(registry, req);
  }

  private async authed(registry: string, req: ClientRequest): Promise<HttpResponse> {
    const ref = { registry };
    const auth = this.hostAuth(ref.registry);
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.once(ref.registry, req, auth);
        if (res.status === 401 && !refreshed) {
          // Expired token or a scope we did not ask for: learn, refresh once, replay.
          refreshed = true;
          auth.learn(res);
          auth.invalidate(req.scopes);
          // insufficient_scope: the challenge names the scope it wants; ask for it too.
          const wanted = auth.challenge?.params.scope?.split(' ').filter(Boolean) ?? [];
          if (wanted.some((w) => !req.scopes.includes(w)))
            req = { ...req, scopes: [...new Set([...req.scopes, ...wanted])] };
          await drain(res);
          if (!req.body || Buffer.isBuffer(req.body)) {
            attempt--;
            continue;
          }
          // A streamed body is spent: the caller's upload loop retries with a fresh stream.
          throw Object.assign(new RegistryError(401, 'UNAUTHORIZED', `${req.what}: token rejected`), {
            authRetry: true,
          });
        }
        if (req.ok.includes(res.status)) return res;
        const body = await readSmall(res, 64 * 1024).catch(() => Buffer.alloc(0));
        throw registryErrorFrom(res.status, body, req.what);
      } catch (e) {
        if (req.signal?.aborted) throw abortError(req.signal);
        if (!req.retry || !isRetryable(e) || attempt >= this.options.retries) throw e;
      }
      await this.backoff(attempt, req.signal);
    }
  }

  private async once(registry: string, req: ClientRequest, auth: HostAuth): Promise<HttpResponse> {
    const base = this.endpoint(registry);
    let url = typeof req.path === 'string' ? new URL(req.path, base) : req.path;
    let method = req.method;
    for (let hops = 0; hops < 6; hops++) {
      const sameHost = url.host === base.host;
      const headers: Record<string, string> = { 'user-agent': this.options.userAgent, ...req.headers };
      if (sameHost) {
        const a = await auth.authorization(req.scopes, req.signal);
        if (a) headers.authorization = a;
      }
      const body =
        req.body === undefined
          ? undefined
          : Buffer.isBuffer(req.body)
            ? req.body
            : hops === 0
              ? req.body()
              : undefined;
      this.requestCount++;
      const res = await httpRequest({
        method,
        url,
        headers,
        timeoutMs: this.options.timeoutMs,
        certsDir: this.options.certsDir,
        insecureTls: sameHost && this.insecureTls(registry),
        ...(body ? { body } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      const loc = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(res.status) && loc && (method === 'GET' || method === 'HEAD')) {
        await drain(res);
        url = new URL(loc, url);
        if (res.status === 303) method = 'GET';
        continue;
      }
      return res;
    }
    throw new TsbuildError('REGISTRY_ERROR', `too many redirects from ${registry}`);
  }
}

export function repoScope(repository: string, actions: string): string {
  return `repository:${repository}:${actions}`;
}
