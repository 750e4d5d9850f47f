import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGitServer } from '../helpers/git-server.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, ownerInTar, ranSteps, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');
requireBinary('git');

// `--build-context` as buildx: NAME=DIR is a named local context (its own .dockerignore, owners
// 0:0, content-checksum cache keys) that FROM, COPY --from and RUN --mount from= name;
// NAME=docker-image://REF stands in for an image or a stage of that name.

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

describe('--build-context', () => {
  const base = useBusyboxRegistry();

  it('takes a git URL as the tree of its commit and an http(s) URL as the file /context, as dockerui', async () => {
    const git = await startGitServer();
    const srv = createServer((q, res) => res.end(`served ${q.url}\n`));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const http = `http://127.0.0.1:${(srv.address() as { port: number }).port}/dl/file.tar`;
      const root = tmp('tsb-e2e-bctx-');
      const out = join(tmp('tsb-e2e-bctx-out-'), 'fs.tar');
      const df = [
        `FROM ${base()}`,
        'COPY --from=repo / /repo/',
        'COPY --from=sub / /sub/',
        'COPY --from=dl / /dl/',
        'RUN --mount=from=kept,target=/k git_dir=$(ls -d /k/.git) && echo "$git_dir" > /kept',
        'FROM repo AS tree',
      ].join('\n');
      const contexts = {
        repo: `${git.url}#v1`,
        sub: `${git.url}#main:sub`,
        kept: `${git.url}?ref=v1&keep-git-dir=true`,
        dl: http,
      };
      const r = await buildIt(root, makeContext({}), `${df}\nFROM scratch\nCOPY --from=0 / /\n`, {
        buildContexts: contexts,
        outputs: ['type=image', `type=tar,dest=${out}`],
      });
      // the tag's tree without .git (no b.txt: that is main's), owners 0:0
      expect(readdirSync(join(r.rootfs, 'repo')).sort()).toEqual(['a.txt', 'link', 'run.sh', 'sub']);
      expect(ownerInTar(out, 'repo/run.sh')).toBe('0:0');
      expect(readdirSync(join(r.rootfs, 'sub'))).toEqual(['s.txt']);
      expect(readFileSync(join(r.rootfs, 'kept'), 'utf8')).toBe('/k/.git\n');
      // one file named context, the bytes as served (a .tar name is not unpacked)
      expect(readdirSync(join(r.rootfs, 'dl'))).toEqual(['context']);
      expect(readFileSync(join(r.rootfs, 'dl', 'context'), 'utf8')).toBe('served /dl/file.tar\n');
      // FROM a git context: its tree as the rootfs, a scratch config
      const tree = await buildIt(root, makeContext({}), df, { buildContexts: contexts, target: 'tree' });
      expect(readdirSync(tree.rootfs).sort()).toEqual(['a.txt', 'link', 'run.sh', 'sub']);
      expect(tree.cfg.config?.Cmd).toBeUndefined();
      // cached by commit: the same build runs nothing; moving main re-runs only what reads main
      expect(
        (await buildIt(root, makeContext({}), df, { buildContexts: contexts, target: 'tree' })).stepsRun,
      ).toBe(0);
      git.push({ 'c.txt': 'c\n' });
      const again = await buildIt(root, makeContext({}), `${df}\nFROM scratch\nCOPY --from=0 / /\n`, {
        buildContexts: contexts,
      });
      const ran = ranSteps(again.events);
      expect(ran.some((n) => n.includes('COPY --from=sub'))).toBe(true);
      expect(ran.some((n) => n.includes('COPY --from=repo'))).toBe(false);
    } finally {
      git.stop();
      srv.close();
    }
  });

  it('a directory: FROM, COPY --from and RUN --mount from= read it, filtered by its own .dockerignore, owned by 0:0', async () => {
    const lib = makeContext({
      'l.txt': 'lib\n',
      'd/y': 'y\n',
      'skip.me': 'no\n',
      '.dockerignore': 'skip.me\n',
    });
    chownSync(join(lib, 'l.txt'), 1000, 1000);
    const out = join(tmp('tsb-e2e-bctx-out-'), 'fs.tar');
    const r = await buildIt(
      tmp('tsb-e2e-bctx-'),
      makeContext({ 'own.txt': 'own\n' }),
      `FROM ${base()}\nCOPY --from=lib / /lib/\nCOPY --from=lib l.txt /l2.txt\nRUN --mount=from=lib,target=/m ls -a /m > /mls\nCOPY own.txt /\n`,
      { buildContexts: { lib }, outputs: ['type=image', `type=tar,dest=${out}`] },
    );
    expect(readdirSync(join(r.rootfs, 'lib')).sort()).toEqual(['.dockerignore', 'd', 'l.txt']);
    expect(read(r.rootfs, 'l2.txt')).toBe('lib\n');
    expect(read(r.rootfs, 'mls').split('\n')).not.toContain('skip.me');
    expect(read(r.rootfs, 'mls').split('\n')).toContain('l.txt');
    expect(read(r.rootfs, 'own.txt')).toBe('own\n');
    expect(ownerInTar(out, 'lib/l.txt')).toBe('0:0');
    // FROM it: its tree is the rootfs
    const from = await buildIt(tmp('tsb-e2e-bctx-'), makeContext({}), 'FROM lib\n', {
      buildContexts: { lib },
    });
    expect(readdirSync(from.rootfs).sort()).toEqual(['.dockerignore', 'd', 'l.txt']);
  });

  it('is keyed by content: a touch keeps every step, a changed file re-runs only what selects it', async () => {
    const root = tmp('tsb-e2e-bctx-');
    const lib = makeContext({ 'l.txt': 'lib\n', 'd/y': 'y\n' });
    const ctx = makeContext({});
    const df = `FROM ${base()}\nCOPY --from=lib d/y /y\nCOPY --from=lib l.txt /l\n`;
    await buildIt(root, ctx, df, { buildContexts: { lib } });
    utimesSync(join(lib, 'l.txt'), new Date(), new Date(2000, 1, 1));
    expect((await buildIt(root, ctx, df, { buildContexts: { lib } })).stepsRun).toBe(0);
    writeFileSync(join(lib, 'l.txt'), 'changed\n');
    const third = await buildIt(root, ctx, df, { buildContexts: { lib } });
    const ran = ranSteps(third.events);
    expect(ran.some((n) => n.includes('COPY --from=lib d/y'))).toBe(false);
    expect(ran.some((n) => n.includes('COPY --from=lib l.txt'))).toBe(true);
    expect(read(third.rootfs, 'l')).toBe('changed\n');
  });

  it('docker-image:// stands in for an image name and for a stage of the same name', async () => {
    const root = tmp('tsb-e2e-bctx-');
    const ctx = makeContext({});
    const df =
      'FROM nosuch.invalid/never:1 AS tools\nRUN echo built > /from-stage\nFROM alpine\nCOPY --from=tools /bin/busybox /bb\n';
    const r = await buildIt(root, ctx, df, {
      buildContexts: { tools: `docker-image://${base()}`, alpine: `docker-image://${base()}` },
      insecureRegistries: [base().split('/')[0]!],
    });
    // the stage `tools` was never built: the image took its place
    expect(ranSteps(r.events).some((n) => n.includes('RUN echo built'))).toBe(false);
    expect(readFileSync(join(r.rootfs, 'bb')).equals(readFileSync(join(r.rootfs, 'bin', 'busybox')))).toBe(
      true,
    );
  });

  it('refuses what it cannot read, from the CLI too', async () => {
    const ctx = makeContext({ Dockerfile: 'FROM lib\n' });
    const run = (...args: string[]) =>
      spawnSync('node', [bin, 'build', '--root', tmp('tsb-e2e-bctx-'), ...args, ctx], { encoding: 'utf8' });
    const missing = run('--build-context', 'lib=/nonexistent/dir');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(
      'invalid --build-context lib=/nonexistent/dir: /nonexistent/dir not found',
    );
    for (const value of ['ftp://example.invalid/x', 'target:other', 'input:x']) {
      const other = run('--build-context', `lib=${value}`);
      expect(other.status, value).toBe(1);
      expect(other.stderr).toContain(
        'only docker-image://, oci-layout://, git and http(s) URLs and local directories are supported',
      );
    }
    const ok = run('-q', '--build-context', `lib=${makeContext({ 'f.txt': 'f\n' })}`);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });
});
