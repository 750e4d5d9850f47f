import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/oci/index.js';
import { RegistryClient, resolve } from '../../src/registry/index.js';
import { proxyFor } from '../../src/registry/proxy.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';

function externalIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('this test needs a non-loopback IPv4 address (loopback is never proxied)');
}

/** A forward proxy: absolute-form requests relayed, CONNECT tunnelled; what it was asked, logged. */
async function startProxy(refuse = false): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((q, res) => {
    seen.push(`${q.method} ${q.url}`);
    const target = new URL(q.url ?? '');
    const up = request(target, { method: q.method, headers: q.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    q.pipe(up);
  });
  server.on('connect', (q, socket, head) => {
    seen.push(`CONNECT ${q.url} ${q.headers['proxy-authorization'] ?? ''}`.trim());
    if (refuse) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const [host, port] = (q.url ?? '').split(':');
    const up = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket).pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, seen, server };
}

describe('HTTP(S)_PROXY and NO_PROXY, as Go reads them', () => {
  const url = (u: string) => new URL(u);
  it('picks the proxy by scheme; loopback, NO_PROXY hosts, domains, IPs, CIDRs and ports go direct', () => {
    const env = { HTTPS_PROXY: 'proxy:3128', http_proxy: 'http://p2:8080', NO_PROXY: '' };
    expect(proxyFor(url('https://reg.example/v2/'), env)?.href).toBe('http://proxy:3128/');
    expect(proxyFor(url('http://reg.example/v2/'), env)?.href).toBe('http://p2:8080/');
    for (const direct of ['https://localhost:5000/', 'https://127.0.0.5/', 'https://[::1]:5000/'])
      expect(proxyFor(url(direct), env), direct).toBeUndefined();
    const no = (list: string, u: string) => proxyFor(url(u), { ...env, NO_PROXY: list });
    expect(no('example.com', 'https://example.com/')).toBeUndefined();
    expect(no('example.com', 'https://a.example.com/')).toBeUndefined();
    expect(no('example.com', 'https://notexample.com/')).toBeDefined();
    expect(no('.example.com', 'https://example.com/')).toBeDefined();
    expect(no('*.example.com', 'https://b.example.com/')).toBeUndefined();
    expect(no('10.0.0.0/8, 192.168.1.7', 'https://10.2.3.4/')).toBeUndefined();
    expect(no('10.0.0.0/8, 192.168.1.7', 'https://192.168.1.7:5000/')).toBeUndefined();
    expect(no('10.0.0.0/8', 'https://11.0.0.1/')).toBeDefined();
    expect(no('reg.example:5000', 'https://reg.example:5000/')).toBeUndefined();
    expect(no('reg.example:5000', 'https://reg.example/')).toBeDefined();
    expect(no('*', 'https://anything/')).toBeUndefined();
    // Go's httpoxy guard: under CGI, HTTP_PROXY is not trusted
    expect(proxyFor(url('http://reg.example/'), { ...env, REQUEST_METHOD: 'GET' })).toBeUndefined();
    expect(() => proxyFor(url('https://x/'), { HTTPS_PROXY: 'socks5://s:1080' })).toThrow(/only http/);
  });
});

describe('registries through a proxy', () => {
  let plain: TestRegistry;
  let secure: TestRegistry;
  const saved = { ...process.env };
  beforeAll(async () => {
    const ip = externalIPv4();
    plain = await startRegistry({ listen: ip });
    secure = await startRegistry({ tls: true, listen: ip });
    pushBusyboxImage(plain, 'library/busybox:1');
  });
  afterAll(async () => {
    await plain?.stop();
    await secure?.stop();
  });
  afterEach(() => {
    for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY']) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('http:// goes as absolute URLs, https:// through CONNECT (with credentials); NO_PROXY goes direct', async () => {
    const proxy = await startProxy();
    try {
      process.env.HTTP_PROXY = proxy.url;
      const viaHttp = new RegistryClient({ insecureRegistries: [plain.host] });
      await resolve(viaHttp, parseReference(`${plain.host}/library/busybox:1`));
      expect(proxy.seen).toContain(`GET http://${plain.host}/v2/library/busybox/manifests/1`);

      process.env.HTTPS_PROXY = proxy.url.replace('http://', 'http://u%40x:p%3Aw@');
      const viaTunnel = new RegistryClient({ certsDir: secure.certsDir! });
      // the registry has no such image: the answer (a 404 through the tunnel) is what matters
      await expect(resolve(viaTunnel, parseReference(`${secure.host}/none/x:1`))).rejects.toMatchObject({
        code: 'MANIFEST_UNKNOWN',
      });
      const basic = Buffer.from('u@x:p:w').toString('base64');
      expect(proxy.seen).toContain(`CONNECT ${secure.host} Basic ${basic}`);

      const before = proxy.seen.length;
      process.env.NO_PROXY = plain.host.split(':')[0];
      await resolve(
        new RegistryClient({ insecureRegistries: [plain.host] }),
        parseReference(`${plain.host}/library/busybox:1`),
      );
      expect(proxy.seen.length).toBe(before);
    } finally {
      proxy.server.close();
    }
  });

  it('a proxy that refuses the tunnel is a clear error', async () => {
    const proxy = await startProxy(true);
    try {
      process.env.HTTPS_PROXY = proxy.url;
      const client = new RegistryClient({ certsDir: secure.certsDir! });
      await expect(resolve(client, parseReference(`${secure.host}/none/x:1`))).rejects.toThrow(
        /refused CONNECT .*: HTTP 403/,
      );
    } finally {
      proxy.server.close();
    }
  });
});
