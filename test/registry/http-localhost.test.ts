import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest, readSmall } from '../../src/registry/http.js';

// Plain HTTP to "localhost" connects by address (127.0.0.1, then ::1 when refused) while the request
// still names the host as written: a registry's redirects and auth realms are built from it.
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(address: string): Promise<{ port: number; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const s = createServer((q, r) => {
    seen.push(q.headers);
    r.end(`hello from ${address}`);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, address, r));
  return { port: (s.address() as AddressInfo).port, seen };
}

const get = async (url: string) => {
  const res = await httpRequest({ method: 'GET', url: new URL(url), timeoutMs: 5000 });
  return { status: res.status, body: (await readSmall(res)).toString() };
};

describe('plain HTTP to localhost', () => {
  it('reaches a registry on 127.0.0.1 with Host: localhost:<port>', async () => {
    const { port, seen } = await serve('127.0.0.1');
    expect(await get(`http://localhost:${port}/v2/`)).toEqual({ status: 200, body: 'hello from 127.0.0.1' });
    expect(seen[0]?.host).toBe(`localhost:${port}`);
  });

  it('falls back to ::1 when 127.0.0.1 refuses', async () => {
    const { port, seen } = await serve('::1');
    expect(await get(`http://localhost:${port}/v2/`)).toEqual({ status: 200, body: 'hello from ::1' });
    expect(seen[0]?.host).toBe(`localhost:${port}`);
  });

  it('still reports a refusal on both', async () => {
    const { port } = await serve('127.0.0.1');
    await new Promise((r) => servers.pop()?.close(r));
    await expect(get(`http://localhost:${port}/v2/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
