import type * as Dns from 'node:dns';
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { readdirSync, readFileSync } from 'node:fs';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type * as Tls from 'node:tls';
import { TsbuildError } from '../errors.js';
import { bareHostname, proxyAuth, proxyFor, tunnelAgent } from './proxy.js';

// Loaded on first use, not with the module: a build that talks to no registry (a base already in
// the store) is most incremental builds, and http costs ~8 ms of a start-up. Each on its own: a
// plain-HTTP registry on localhost (most CI set-ups) needs neither https, tls nor dns (~7 ms more).
// A require here, in the bundle too (scripts/bundle.mjs: no import()).
const load = createRequire(import.meta.url);
const mods: { http?: typeof Http; https?: typeof Https; tls?: typeof Tls; dns?: typeof Dns } = {};
const netModules = {
  http: () => (mods.http ??= load('node:http') as typeof Http),
  https: () => (mods.https ??= load('node:https') as typeof Https),
  tls: () => (mods.tls ??= load('node:tls') as typeof Tls),
  dns: () => (mods.dns ??= load('node:dns') as typeof Dns),
};

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  signal?: AbortSignal;
  /** Idle timeout: no bytes for this long fails the request (and the stream after it). */
  timeoutMs: number;
  /** Docker-style per-host certificate directories (`/etc/docker/certs.d`). */
  certsDir?: string;
  /** HTTPS without certificate verification (an insecure registry that speaks TLS). */
  insecureTls?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Http.IncomingHttpHeaders;
  body: Http.IncomingMessage;
  url: URL;
}

const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];
let caCache: string[] | undefined;

/**
 * The system CA store (Debian's bundle), Node's own roots and the NODE_EXTRA_CA_CERTS file: an
 * explicit `ca` replaces what Node would add from that variable, and bin/run.js moves it to
 * TSBUILD_EXTRA_CA_CERTS so that Node does not parse it at every start-up.
 */
function systemCAs(): string[] {
  if (caCache) return caCache;
  const cas = [...netModules.tls().rootCertificates];
  for (const f of SYSTEM_CA_FILES) {
    try {
      cas.push(readFileSync(f, 'utf8'));
      break;
    } catch {
      // not this distribution's path
    }
  }
  for (const f of new Set([process.env.TSBUILD_EXTRA_CA_CERTS, process.env.NODE_EXTRA_CA_CERTS])) {
    if (!f) continue;
    try {
      cas.push(readFileSync(f, 'utf8'));
    } catch {
      // as Node does with a missing NODE_EXTRA_CA_CERTS file: a warning at most, never a failure
    }
  }
  caCache = cas;
  return cas;
}

/**
 * Extra trust for one registry, Docker style: `<certsDir>/<host[:port]>/*.crt` are CA certificates
 * added to the system store (a private CA), `*.cert` + `*.key` a client certificate.
 */
function hostTls(certsDir: string, host: string): { ca: string[]; cert?: string; key?: string } | undefined {
  const dir = join(certsDir, host.replace(/[/\\]/g, '_'));
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return undefined;
  }
  const ca = names.filter((n) => n.endsWith('.crt')).map((n) => readFileSync(join(dir, n), 'utf8'));
  const certName = names.find((n) => n.endsWith('.cert'));
  const keyName = certName && names.find((n) => n === certName.replace(/\.cert$/, '.key'));
  if (ca.length === 0 && !keyName) return undefined;
  return {
    ca,
    ...(certName && keyName
      ? { cert: readFileSync(join(dir, certName), 'utf8'), key: readFileSync(join(dir, keyName), 'utf8') }
      : {}),
  };
}

/** TLS trust for `url`: system CAs, plus a certs.d directory's for its host, or none (insecure). */
function tlsOptions(url: URL, certsDir?: string, insecureTls?: boolean): Https.AgentOptions {
  if (insecureTls) return { rejectUnauthorized: false };
  const extra = certsDir ? hostTls(certsDir, url.host) : undefined;
  return extra ? { ...extra, ca: [...systemCAs(), ...extra.ca] } : { ca: systemCAs() };
}

/** Keep-alive agents, one per proxy, protocol and TLS trust (a certs.d dir read once per host). */
const agents = new Map<string, Http.Agent>();

function agentFor(url: URL, certsDir?: string, insecureTls?: boolean, proxy?: URL): Http.Agent {
  const plain = url.protocol === 'http:';
  // Per host only with a certs.d dir (read once, with the agent: a listing per request would show).
  const trust = plain ? '' : insecureTls ? 'insecure' : certsDir ? `${certsDir}\0${url.host}` : 'system';
  const key = `${proxy?.href ?? ''}\0${url.protocol}\0${trust}`;
  let a = agents.get(key);
  if (!a) {
    const base = { keepAlive: true, maxSockets: 16 };
    if (plain) a = new (netModules.http().Agent)(base);
    else {
      const opts = { ...base, ...tlsOptions(url, certsDir, insecureTls) };
      a = proxy
        ? tunnelAgent(
            { http: netModules.http(), https: netModules.https(), tls: netModules.tls() },
            proxy,
            opts,
          )
        : new (netModules.https().Agent)(opts);
    }
    agents.set(key, a);
  }
  return a;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * "localhost" answered without the system resolver, as browsers do (RFC 6761 §6.3: always the
 * loopback): a cold getaddrinfo costs 5-25 ms before a local registry's first request. IPv4 first,
 * then ::1 for a registry listening there (connections try the next address on a refusal).
 */
function lookupHost(
  hostname: string,
  options: LookupAllOptions | { family?: number | string; all?: boolean },
  callback: LookupCallback,
): void {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) {
    netModules.dns().lookup(hostname, options as LookupAllOptions, callback as never);
    return;
  }
  const fam = options.family;
  const v4 = { address: '127.0.0.1', family: 4 };
  const v6 = { address: '::1', family: 6 };
  const list = fam === 6 || fam === 'IPv6' ? [v6] : fam === 4 || fam === 'IPv4' ? [v4] : [v4, v6];
  if (options.all) process.nextTick(callback, null, list);
  else process.nextTick(callback, null, list[0]!.address, list[0]!.family);
}

/** One HTTP exchange; resolves when headers arrive, the body is left to the caller as a stream. */
export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  if (!loopbackByAddress(req)) return exchange(req);
  // Plain HTTP to "localhost": 127.0.0.1 by address, ::1 when that is refused (see lookupHost).
  return exchange(req, '127.0.0.1').catch((e: NodeJS.ErrnoException) =>
    e.code === 'ECONNREFUSED' ? exchange(req, '::1') : Promise.reject(e),
  );
}

/**
 * Whether to connect to a plain-HTTP "localhost" registry by address. Node checks every host name
 * with net.isIP twice per request (the agent, then connect), and for a name that is its IPv6 regex:
 * ~10 ms to compile on the first request, ~1.6 ms each time after. An IPv4 literal is recognized
 * first. Only bodies that can be sent twice (a refused 127.0.0.1 is retried on ::1).
 */
function loopbackByAddress(req: HttpRequest): boolean {
  const h = req.url.hostname;
  return (
    req.url.protocol === 'http:' &&
    (h === 'localhost' || h.endsWith('.localhost')) &&
    (req.body === undefined || Buffer.isBuffer(req.body))
  );
}

function exchange(req: HttpRequest, address?: string): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    if (req.signal?.aborted) {
      reject(abortError(req.signal));
      return;
    }
    const headers: Record<string, string> = { ...req.headers };
    if (Buffer.isBuffer(req.body)) headers['content-length'] = String(req.body.length);
    // By address: the Host header still names the registry as the user wrote it; no TLS to name.
    if (address) headers.host = req.url.host;
    const proxy = address ? undefined : proxyFor(req.url);
    const r =
      proxy && req.url.protocol === 'http:'
        ? viaProxy(req, proxy, headers)
        : direct(req, headers, address, proxy);
    const onAbort = () => r.destroy(abortError(req.signal!));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    r.setTimeout(req.timeoutMs, () =>
      r.destroy(new TsbuildError('REGISTRY_TIMEOUT', `timed out: ${req.method} ${req.url.host}`)),
    );
    r.on('error', (e) => {
      req.signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    r.on('response', (res) => {
      res.on('close', () => req.signal?.removeEventListener('abort', onAbort));
      // A stalled body after the headers is as fatal as a stalled connect.
      res.setTimeout?.(req.timeoutMs, () =>
        res.destroy(new TsbuildError('REGISTRY_TIMEOUT', `timed out reading from ${req.url.host}`)),
      );
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url });
    });
    if (req.body === undefined) r.end();
    else if (Buffer.isBuffer(req.body)) r.end(req.body);
    else {
      req.body.on('error', (e) => r.destroy(e));
      req.body.pipe(r);
    }
  });
}

/** A request to the target (an https one through the proxy's tunnel, when there is one). */
function direct(req: HttpRequest, headers: Record<string, string>, address?: string, proxy?: URL) {
  const mod = req.url.protocol === 'http:' ? netModules.http() : netModules.https();
  return mod.request(req.url, {
    method: req.method,
    headers,
    agent: agentFor(req.url, req.certsDir, req.insecureTls, proxy),
    lookup: lookupHost as never,
    ...(address ? { hostname: address, servername: '' } : {}),
  });
}

/** An http:// request through a proxy: to the proxy, with the target's absolute URL. */
function viaProxy(req: HttpRequest, proxy: URL, headers: Record<string, string>) {
  const secure = proxy.protocol === 'https:';
  const mod = secure ? netModules.https() : netModules.http();
  return mod.request({
    protocol: proxy.protocol,
    hostname: bareHostname(proxy),
    port: proxy.port || (secure ? 443 : 80),
    path: req.url.href,
    method: req.method,
    headers: { ...headers, host: req.url.host, ...proxyAuth(proxy) },
    agent: agentFor(proxy, undefined, false),
  });
}

export function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  return new TsbuildError('CANCELLED', 'cancelled');
}

/** Reads a small body (manifests, errors) with a cap: a hostile registry cannot make us buffer GBs. */
export async function readSmall(res: HttpResponse, max = 4 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      res.body.destroy();
      throw new TsbuildError(
        'REGISTRY_RESPONSE_TOO_LARGE',
        `response from ${res.url.host} exceeds ${max} bytes`,
      );
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** Discards a body so the keep-alive socket can be reused. */
export async function drain(res: HttpResponse): Promise<void> {
  try {
    for await (const _ of res.body as AsyncIterable<Buffer>) {
      // discard
    }
  } catch {
    // a broken body on an error path does not matter
  }
}

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
