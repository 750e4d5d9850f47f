import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitServer, startGitServer } from '../helpers/git-server.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { startSshServer } from '../helpers/ssh-server.js';
import { buildIt, makeContext, ownerInTar, ranSteps, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');
requireBinary('git');

// ADD <git url> as BuildKit's git source, against a real git daemon on 127.0.0.1: the ref resolved
// to a commit (the cache key), the tree copied into the destination owned by 0:0, .git only with
// --keep-git-dir, `#ref:subdir`, --checksum naming the commit.

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
let srv: GitServer;
let url = '';
let commits: GitServer['commits'];
beforeAll(async () => {
  srv = await startGitServer();
  url = srv.url;
  commits = srv.commits;
});
afterAll(() => srv?.stop());

describe('ADD of a git repository', () => {
  const base = useBusyboxRegistry();

  it('copies the tree of the ref into the destination, as BuildKit: 0:0, modes and links kept, .git only when kept', async () => {
    const root = tmp('tsb-e2e-git-');
    const out = join(tmp('tsb-e2e-git-out-'), 'fs.tar');
    const r = await buildIt(
      root,
      makeContext({}),
      `FROM ${base()}\nADD ${url} /src\nADD --keep-git-dir=true ${url}#v1 /v1\nADD ${url}#main:sub /sub/\n`,
      { outputs: ['type=image', `type=tar,dest=${out}`] },
    );
    expect(readdirSync(join(r.rootfs, 'src')).sort()).toEqual(['a.txt', 'b.txt', 'link', 'run.sh', 'sub']);
    expect(readFileSync(join(r.rootfs, 'src', 'sub', 's.txt'), 'utf8')).toBe('sub\n');
    expect(lstatSync(join(r.rootfs, 'src', 'run.sh')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(r.rootfs, 'src', 'a.txt')).mode & 0o777).toBe(0o644);
    expect(readlinkSync(join(r.rootfs, 'src', 'link'))).toBe('a.txt');
    expect(ownerInTar(out, 'src/run.sh')).toBe('0:0');
    // the tag's tree, with its repository
    expect(readdirSync(join(r.rootfs, 'v1')).sort()).toEqual(['.git', 'a.txt', 'link', 'run.sh', 'sub']);
    expect(
      execFileSync('git', ['-C', join(r.rootfs, 'v1'), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(),
    ).toBe(commits.v1);
    expect(readdirSync(join(r.rootfs, 'sub'))).toEqual(['s.txt']);
    expect(r.cfg.history?.at(-1)?.created_by).toBe(`ADD ${url}#main:sub /sub/ # buildkit`);
  });

  it('is cached by commit: a rebuild runs nothing, a moved branch re-runs only what reads it', async () => {
    const root = tmp('tsb-e2e-git-');
    const df = `FROM ${base()}\nADD ${url}#v1 /v1\nADD ${url}#main /main\nRUN ls /main > /list\n`;
    const first = await buildIt(root, makeContext({}), df);
    expect(first.stepsRun).toBeGreaterThan(0);
    const again = await buildIt(root, makeContext({}), df);
    expect(again.stepsRun).toBe(0);
    const moved = srv.push({ 'c.txt': 'c\n' });
    expect(moved).not.toBe(commits.two);
    const third = await buildIt(root, makeContext({}), df);
    const ran = ranSteps(third.events);
    expect(ran.some((n) => n.includes('#v1 /v1'))).toBe(false);
    expect(ran.filter((n) => n.includes('#main /main')).length).toBeGreaterThan(0);
    expect(readFileSync(join(third.rootfs, 'list'), 'utf8')).toContain('c.txt');
  });

  it('checks --checksum against the commit; an unknown ref or a subdir outside the tree fails clearly', async () => {
    const root = tmp('tsb-e2e-git-');
    const ctx = makeContext({});
    const ok = await buildIt(
      root,
      ctx,
      `FROM ${base()}\nADD --checksum=${commits.v1!.slice(0, 12)} ${url}#v1 /v1\n`,
    );
    expect(readdirSync(join(ok.rootfs, 'v1'))).toContain('a.txt');
    await expect(
      buildIt(root, ctx, `FROM ${base()}\nADD --checksum=${commits.two} ${url}#v1 /v1\n`),
    ).rejects.toMatchObject({ code: 'ADD_CHECKSUM_MISMATCH' });
    await expect(buildIt(root, ctx, `FROM ${base()}\nADD ${url}#nope /x\n`)).rejects.toMatchObject({
      code: 'GIT_REF_NOT_FOUND',
      message: expect.stringContaining(`failed to resolve nope in ${url}`),
    });
    await expect(buildIt(root, ctx, `FROM ${base()}\nADD ${url}#main:../.. /x\n`)).rejects.toMatchObject({
      code: 'GIT_SUBDIR',
    });
    // --exclude (its ARGs expanded) applies to the repository's tree
    const ex = await buildIt(root, ctx, `FROM ${base()}\nARG PAT=*.txt\nADD --exclude=$PAT ${url}#v1 /v1\n`);
    expect(readdirSync(join(ex.rootfs, 'v1')).sort()).toEqual(['link', 'run.sh', 'sub']);
    await expect(buildIt(root, ctx, `FROM ${base()}\nCOPY ${url} /x\n`)).rejects.toThrow(
      "source can't be a git ref for COPY",
    );
  });
  it('takes URL queries (Dockerfile 1.18): branch/tag/ref, subdir, checksum or commit, keep-git-dir', async () => {
    const root = tmp('tsb-e2e-git-');
    const ctx = makeContext({});
    const r = await buildIt(
      root,
      ctx,
      `FROM ${base()}
ADD ${url}?tag=v1&subdir=sub /tagsub/
ADD ${url}?branch=main /main
ADD ${url}?ref=v1&keep-git-dir=true /kept
ADD ${url}?commit=${commits.v1}&tag=v1 /pinned
`,
    );
    expect(readdirSync(join(r.rootfs, 'tagsub'))).toEqual(['s.txt']);
    expect(readdirSync(join(r.rootfs, 'main'))).toContain('b.txt');
    expect(readdirSync(join(r.rootfs, 'kept'))).toContain('.git');
    expect(readdirSync(join(r.rootfs, 'pinned'))).not.toContain('b.txt');
    await expect(
      buildIt(root, ctx, `FROM ${base()}\nADD ${url}?tag=v1&checksum=${commits.two} /x\n`),
    ).rejects.toMatchObject({ code: 'ADD_CHECKSUM_MISMATCH' });
    await expect(buildIt(root, ctx, `FROM ${base()}\nADD ${url}?tag=v1#main /x\n`)).rejects.toMatchObject({
      code: 'INVALID_GIT_URL',
    });
  });

  it('over ssh goes through the build’s --ssh default agent, as BuildKit’s git source does', async () => {
    const sshd = await startSshServer();
    try {
      const df = `FROM ${base()}\nADD ${sshd.base}${srv.repo}#v1 /src\n`;
      const ctx = makeContext({});
      const r = await buildIt(tmp('tsb-e2e-git-'), ctx, df, { ssh: [`default=${sshd.key}`] });
      expect(readdirSync(join(r.rootfs, 'src')).sort()).toEqual(['a.txt', 'link', 'run.sh', 'sub']);
      // Without --ssh git has only the caller's own ssh set-up, which this server does not let in.
      await expect(buildIt(tmp('tsb-e2e-git-'), ctx, df)).rejects.toMatchObject({ code: 'GIT_FAILED' });
    } finally {
      sshd.stop();
    }
  });
});
