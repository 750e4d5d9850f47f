import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type ImageReference, parseReference } from '../../src/oci/index.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';

/** What the proxy does with one request. */
export type Fault =
  /** Forward; `headers` are added to the response (e.g. OCI-Chunk-Min-Length). */
  | { kind: 'pass'; headers?: Record<string, string> }
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Forward, send the headers and `afterBytes` of the body, then cut the connection. */
  | { kind: 'reset'; afterBytes: number }
  /** Forward, but flip one byte of the body (a registry serving the wrong content), after `delayMs`. */
  | { kind: 'corrupt'; delayMs?: number }
  /** Forward, holding each body chunk back for `delayMs` (a slow link). */
  | { kind: 'slow'; delayMs: number }
  /** Accept, never answer. */
  | { kind: 'stall' };

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  fault: Fault['kind'];
}

export interface FaultProxy {
  host: string;
  seen: SeenRequest[];
  /** Decides per request; default pass. */
  rule: (req: http.IncomingMessage, n: number) => Fault;
  stop(): Promise<void>;
}

/** A small HTTP proxy in front of a registry that injects faults; keeps Host so Locations point back at it. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [thost, tport] = target.split(':') as [string, string];
  const seen: SeenRequest[] = [];
  const proxy: FaultProxy = { host: '', seen, rule: () => ({ kind: 'pass' }), stop: async () => {} };
  const server = http.createServer((req, res) => {
    const fault = proxy.rule(req, seen.length);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, fault: fault.kind });
    if (fault.kind === 'status') {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: `injected ${fault.status}` }] }));
      return;
    }
    if (fault.kind === 'stall') {
      req.resume();
      return;
    }
    const up = http.request(
      { host: thost, port: Number(tport), method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, {
          ...ur.headers,
          ...(fault.kind === 'pass' ? fault.headers : {}),
        });
        void (async () => {
          let sent = 0;
          let flipped = false;
          try {
            for await (const chunk of ur as AsyncIterable<Buffer>) {
              let c = chunk;
              if (fault.kind === 'reset' && fault.afterBytes - sent <= c.length) {
                res.write(c.subarray(0, Math.max(0, fault.afterBytes - sent)));
                ur.destroy();
                setTimeout(() => res.socket?.destroy(), 20);
                return;
              }
              if (fault.kind === 'corrupt' && fault.delayMs && sent === 0)
                await new Promise((r) => setTimeout(r, fault.delayMs));
              if (fault.kind === 'corrupt' && !flipped && c.length > 0) {
                c = Buffer.from(c);
                c[c.length >> 1] = c[c.length >> 1]! ^ 0xff;
                flipped = true;
              }
              if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs));
              sent += c.length;
              if (!res.write(c)) await new Promise((r) => res.once('drain', r));
            }
            res.end();
          } catch {
            res.socket?.destroy();
          }
        })();
      },
    );
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return proxy;
}

/**
 * The fixture both fault suites use: busybox pushed to a real registry, reached through a fault
 * proxy. Call inside a describe block; the proxy's rule is reset to pass before each test.
 */
export function useFaultedBusybox(): {
  reg: () => TestRegistry;
  proxy: () => FaultProxy;
  img: () => ReturnType<typeof pushBusyboxImage>;
  ref: () => ImageReference;
} {
  let reg: TestRegistry | undefined;
  let proxy: FaultProxy | undefined;
  let img: ReturnType<typeof pushBusyboxImage> | undefined;
  let ref: ImageReference | undefined;
  beforeAll(async () => {
    reg = await startRegistry();
    img = pushBusyboxImage(reg, 'library/busybox:1');
    proxy = await startFaultProxy(reg.host);
    ref = parseReference(`${proxy.host}/library/busybox:1`);
  });
  beforeEach(() => {
    if (!proxy) return;
    proxy.rule = () => ({ kind: 'pass' });
    proxy.seen.length = 0;
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the fault-proxy fixture did not start');
    return v;
  };
  return { reg: () => need(reg), proxy: () => need(proxy), img: () => need(img), ref: () => need(ref) };
}
