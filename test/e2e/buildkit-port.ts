import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeContext } from './helpers.js';

// Pieces shared by the ports of BuildKit's frontend/dockerfile tests (add-buildkit.test.ts,
// args-buildkit.test.ts).

// The test registry's busybox has root, app and nobody in /etc/passwd and root, app, staff and
// nogroup in /etc/group, and no adduser/addgroup: where a BuildKit test relies on docker.io busybox's
// users (daemon, the group wheel holding root, a group nobody) this RUN writes those lines first.
export const BUSYBOX_USERS =
  "RUN printf 'root:x:0:0:root:/root:/bin/sh\\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\\nnobody:x:65534:65534:nobody:/home:/bin/false\\n' > /etc/passwd && printf 'root:x:0:\\ndaemon:x:1:\\nwheel:x:10:root\\nnobody:x:65534:\\n' > /etc/group";
// `adduser -D user` as lines in /etc/passwd and /etc/group.
export const ADDUSER =
  "RUN echo 'user:x:1001:1001::/home/user:/bin/sh' >> /etc/passwd && echo 'user:x:1001:' >> /etc/group";

/** A tar with one regular file `name` (mode 0644), as BuildKit's tests write with archive/tar. */
export function tarOf(name: string, content: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-e2e-tar-'));
  writeFileSync(join(dir, name), content);
  chmodSync(join(dir, name), 0o644);
  return execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', dir, '-cf', '-', name]);
}

/** A context holding `files` (Buffers written as given). */
export function context(files: Record<string, string | Buffer>): string {
  const dir = makeContext({});
  for (const [p, c] of Object.entries(files)) writeFileSync(join(dir, p), c);
  return dir;
}

export interface Route {
  content: Buffer;
  etag?: string;
  lastModified?: Date;
}

export interface TestServer {
  url: string;
  /** Requests per path, in order. */
  requests: Map<string, { method: string; userAgent: string }[]>;
  close(): Promise<void>;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.RFC850 (what BuildKit's test server sends as Last-Modified), in UTC. */
function rfc850(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}

/** BuildKit's util/testutil/httpserver: routes with an ETag (304 on If-None-Match) and Last-Modified. */
export async function startServer(routes: Record<string, Route>): Promise<TestServer> {
  const requests = new Map<string, { method: string; userAgent: string }[]>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const r = routes[path];
    if (!r) {
      res.writeHead(404).end();
      return;
    }
    const list = requests.get(path) ?? [];
    list.push({ method: req.method ?? '', userAgent: req.headers['user-agent'] ?? '' });
    requests.set(path, list);
    if (r.lastModified) res.setHeader('Last-Modified', rfc850(r.lastModified));
    if (r.etag) {
      res.setHeader('ETag', r.etag);
      if (req.headers['if-none-match'] === r.etag) {
        res.writeHead(304).end();
        return;
      }
    }
    res.writeHead(200).end(r.content);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const etag = () => randomBytes(16).toString('hex');

/** `uid/gid` of each entry of a tar, by name without a leading `./`. */
export function tarOwners(tarPath: string): Map<string, string> {
  const out = execFileSync('tar', ['--numeric-owner', '-tvf', tarPath], { encoding: 'utf8' });
  const m = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const f = line.split(/\s+/);
    m.set(f.slice(5).join(' ').replace(/^\.\//, ''), f[1]);
  }
  return m;
}
