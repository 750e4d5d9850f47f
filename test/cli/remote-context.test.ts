import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitServer, startGitServer } from '../helpers/git-server.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { runCli } from '../helpers/run-cli.js';
import { startSshServer } from '../helpers/ssh-server.js';

requireRoot();
requireBinary('runc');
requireBinary('git');

// `tsbuild build URL` as `docker build URL`: a git repository (`#ref:subdir`) is the context at
// that commit; any other URL is downloaded and read as stdin would be (a tarball, or a Dockerfile).

const _bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

let reg: TestRegistry;
let srv: GitServer;
let http: Server;
let httpUrl = '';
let base = '';
const served: Record<string, Buffer> = {};

beforeAll(async () => {
  reg = await startRegistry();
  base = pushBusyboxImage(reg, 'library/busybox:latest').ref;
  srv = await startGitServer();
  srv.push({
    Dockerfile: `FROM ${base}\nCOPY a.txt /a\n`,
    'app/Dockerfile': `FROM ${base}\nCOPY . /src\nRUN ls -a /src > /ls\n`,
    'app/Dockerfile.alt': `FROM ${base}\nRUN echo alt > /alt\n`,
    'app/x': 'x\n',
  });
  const ctx = tmp('tsb-remote-tar-');
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY f /f\n`);
  writeFileSync(join(ctx, 'f'), 'tarred\n');
  served['/ctx.tar.gz'] = execFileSync('tar', ['-cz', '-C', ctx, '.']);
  served['/Dockerfile'] = Buffer.from(`FROM ${base}\nRUN echo only > /o\n`);
  http = createServer((req, res) => {
    const body = served[req.url ?? ''];
    res.writeHead(body ? 200 : 404).end(body ?? 'no');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  srv?.stop();
  http?.close();
  await reg?.stop();
});

/** `build` in a new root (the HTTP server answers in this process while it runs). */
const tsb = (...args: string[]) => runCli(['build', '--root', tmp('tsb-remote-root-'), ...args]);

describe('a remote build context', () => {
  it('a git repository: its Dockerfile, or #ref:subdir as the context with -f inside it; no .git', async () => {
    const out = tmp('tsb-remote-out-');
    const whole = await tsb('-q', '-o', `type=local,dest=${out}/a`, srv.url);
    expect(whole.status, whole.stderr).toBe(0);
    expect(readFileSync(join(out, 'a', 'a'), 'utf8')).toBe('hello\n');
    const sub = await tsb('-q', '-o', `type=local,dest=${out}/b`, `${srv.url}#main:app`);
    expect(sub.status, sub.stderr).toBe(0);
    expect(readFileSync(join(out, 'b', 'ls'), 'utf8').split('\n')).toEqual([
      '.',
      '..',
      'Dockerfile',
      'Dockerfile.alt',
      'x',
      '',
    ]);
    const alt = await tsb(
      '-q',
      '-f',
      'Dockerfile.alt',
      '-o',
      `type=local,dest=${out}/c`,
      `${srv.url}#main:app`,
    );
    expect(alt.status, alt.stderr).toBe(0);
    expect(readFileSync(join(out, 'c', 'alt'), 'utf8')).toBe('alt\n');
    // the tag has no Dockerfile
    const old = await tsb('-q', `${srv.url}#v1`);
    expect(old.status).toBe(1);
    expect(old.stderr).toContain('DOCKERFILE_NOT_FOUND');
    // the same as URL queries (Dockerfile 1.18); a checksum the ref does not resolve to fails
    const q = await tsb('-q', '-o', `type=local,dest=${out}/d`, `${srv.url}?branch=main&subdir=app`);
    expect(q.status, q.stderr).toBe(0);
    expect(readFileSync(join(out, 'd', 'ls'), 'utf8')).toContain('Dockerfile.alt');
    const wrong = await tsb('-q', `${srv.url}?branch=main&checksum=${srv.commits.v1}`);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('CONTEXT_CHECKSUM_MISMATCH');
  });

  it('a git repository over ssh, through --ssh default (a real sshd that lets in only that key)', async () => {
    const sshd = await startSshServer();
    try {
      const out = tmp('tsb-remote-out-');
      const url = `${sshd.base}${srv.repo}#main:app`;
      const r = await tsb('-q', '--ssh', `default=${sshd.key}`, '-o', `type=local,dest=${out}`, url);
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(join(out, 'ls'), 'utf8')).toContain('Dockerfile.alt');
      // without it git has only the caller's own ssh set-up, which this server does not let in
      expect((await tsb('-q', url)).status).toBe(1);
    } finally {
      sshd.stop();
    }
  });

  it('a URL: a tarball is the context, a text file the Dockerfile; an HTTP error says so', async () => {
    const out = tmp('tsb-remote-out-');
    const tar = await tsb('-q', '-o', `type=local,dest=${out}/a`, `${httpUrl}/ctx.tar.gz`);
    expect(tar.status, tar.stderr).toBe(0);
    expect(readFileSync(join(out, 'a', 'f'), 'utf8')).toBe('tarred\n');
    const df = await tsb('-q', '-o', `type=local,dest=${out}/b`, `${httpUrl}/Dockerfile`);
    expect(df.status, df.stderr).toBe(0);
    expect(readFileSync(join(out, 'b', 'o'), 'utf8')).toBe('only\n');
    const missing = await tsb(`${httpUrl}/nothing`);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`unable to download ${httpUrl}/nothing: HTTP 404 [CONTEXT_URL_FAILED]`);
  });
});
