import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { BlockList, isIP } from 'node:net';
import type * as Tls from 'node:tls';
import { TsbuildError } from '../errors.js';

// HTTP(S)_PROXY and NO_PROXY, read as Go's net/http reads them (golang.org/x/net/http/httpproxy),
// which is how buildah, skopeo and the Docker daemon behind BuildKit reach registries and ADD URLs
// through a proxy: the upper-case name first, then the lower-case one; localhost and loopback
// addresses are never proxied; NO_PROXY holds `*`, hosts (`example.com` also matches its
// subdomains, `.example.com` and `*.example.com` only them), IPs and CIDRs, each with an optional
// `:port`. An https:// target goes through a CONNECT tunnel, an http:// one as an absolute URL.

/** The proxy for `url`, or undefined for a direct connection. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const https = url.protocol === 'https:';
  const raw = https ? env.HTTPS_PROXY || env.https_proxy : env.HTTP_PROXY || env.http_proxy;
  // Go ignores HTTP_PROXY under CGI, where a request header could have set it (httpoxy).
  if (!raw || (!https && env.REQUEST_METHOD)) return undefined;
  const host = bareHostname(url).toLowerCase();
  if (host === 'localhost' || isLoopback(host)) return undefined;
  const port = url.port || (https ? '443' : '80');
  if (noProxy(env.NO_PROXY || env.no_proxy || '', host, port)) return undefined;
  return parseProxy(raw);
}

/** A URL's host name as sockets take it: an IPv6 address without the brackets URL keeps. */
export function bareHostname(u: URL): string {
  return u.hostname.replace(/^\[(.*)\]$/, '$1');
}

function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith('127.');
  return isIP(host) === 6 && /^(0*:)*:?0*1$/.test(host);
}

function parseProxy(raw: string): URL {
  let u: URL | undefined;
  try {
    u = new URL(raw);
  } catch {
    // Go: a value without a scheme (`proxy:3128`) is an http:// one
  }
  if (!u || !['http:', 'https:', 'socks5:', 'socks5h:'].includes(u.protocol)) u = new URL(`http://${raw}`);
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new TsbuildError(
      'PROXY_UNSUPPORTED',
      `proxy ${u.protocol}//${u.host}: only http:// and https:// proxies are supported`,
    );
  return u;
}

function noProxy(list: string, host: string, port: string): boolean {
  for (let entry of list.split(',').map((e) => e.trim().toLowerCase())) {
    if (entry === '') continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      const [net, bits] = entry.split('/') as [string, string];
      const family = isIP(net) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(host) && isIP(net)) {
        const b = new BlockList();
        b.addSubnet(net, Number(bits), family);
        if (b.check(host, isIP(host) === 6 ? 'ipv6' : 'ipv4')) return true;
      }
      continue;
    }
    let entryPort = '';
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const colon = entry.lastIndexOf(':');
    if (bracketed) [entry, entryPort] = [bracketed[1] as string, bracketed[2] ?? ''];
    else if (!isIP(entry) && colon > 0 && /^\d+$/.test(entry.slice(colon + 1)))
      [entry, entryPort] = [entry.slice(0, colon), entry.slice(colon + 1)];
    if (entryPort && entryPort !== port) continue;
    if (isIP(entry)) {
      if (entry === host) return true;
      continue;
    }
    if (entry.startsWith('*.')) entry = entry.slice(1);
    if (entry.startsWith('.') ? host.endsWith(entry) : host === entry || host.endsWith(`.${entry}`))
      return true;
  }
  return false;
}

/** Proxy-Authorization for a proxy URL with credentials (`http://user:pass@proxy:3128`). */
export function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const creds = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(creds).toString('base64')}` };
}

type Oncreate = (err: Error | null, socket?: Tls.TLSSocket) => void;

/**
 * An https.Agent whose connections are CONNECT tunnels through `proxy`, TLS to the target inside
 * (its certificate checked against the agent's options, as a direct connection's would be).
 */
export function tunnelAgent(
  mods: { http: typeof Http; https: typeof Https; tls: typeof Tls },
  proxy: URL,
  opts: Https.AgentOptions,
): Https.Agent {
  const agent = new mods.https.Agent(opts);
  const connect = (options: Tls.ConnectionOptions & { host?: string; port?: number }, cb: Oncreate) => {
    const target = `${options.host}:${options.port ?? 443}`;
    const req = (proxy.protocol === 'https:' ? mods.https : mods.http).request({
      host: bareHostname(proxy),
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...proxyAuth(proxy) },
      agent: false,
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        cb(
          new TsbuildError(
            'PROXY_FAILED',
            `proxy ${proxy.host} refused CONNECT ${target}: HTTP ${res.statusCode}`,
          ),
        );
        return;
      }
      const servername = options.servername || (isIP(options.host ?? '') ? undefined : options.host);
      // A throw here (bad TLS options) would leave the request waiting for a socket forever.
      try {
        cb(null, mods.tls.connect({ ...options, socket, ...(servername ? { servername } : {}) }));
      } catch (e) {
        socket.destroy();
        cb(e as Error);
      }
    });
    req.once('error', (e) => cb(e));
    req.end();
  };
  // Node's Agent takes a socket from createConnection's callback when it returns none.
  (agent as unknown as { createConnection: typeof connect }).createConnection = connect;
  return agent;
}
