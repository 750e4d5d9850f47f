import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, ownerInTar, ranSteps, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');
requireBinary('git');

// ADD <git url> as BuildKit's git source, against a real git daemon on 127.0.0.1: the ref resolved
// to a commit (the cache key), the tree copied into the destination owned by 0:0, .git only with
// --keep-git-dir, `#ref:subdir`, --checksum naming the commit.

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t',
};
const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: gitEnv }).trim();

let daemon: ChildProcess | undefined;
let work = '';
let url = '';
const commits: Record<string, string> = {};

/** A work repo pushed to a bare one that `git daemon` serves. */
async function serve(): Promise<void> {
  const base = tmp('tsb-git-srv-');
  work = join(base, 'work');
  mkdirSync(join(work, 'sub'), { recursive: true });
  git(work, 'init', '-q', '-b', 'main');
  writeFileSync(join(work, 'a.txt'), 'hello\n');
  writeFileSync(join(work, 'sub', 's.txt'), 'sub\n');
  writeFileSync(join(work, 'run.sh'), '#!/bin/sh\necho x\n', { mode: 0o755 });
  symlinkSync('a.txt', join(work, 'link'));
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'one');
  git(work, 'tag', '-a', 'v1', '-m', 'v1');
  commits.v1 = git(work, 'rev-parse', 'HEAD');
  writeFileSync(join(work, 'b.txt'), 'two\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'two');
  commits.two = git(work, 'rev-parse', 'HEAD');
  execFileSync('git', ['clone', '-q', '--bare', work, join(base, 'repo.git')]);
  for (let attempt = 0; attempt < 5 && !url; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    daemon = spawn(
      'git',
      [
        'daemon',
        '--export-all',
        `--base-path=${base}`,
        `--port=${port}`,
        '--listen=127.0.0.1',
        '--reuseaddr',
      ],
      {
        stdio: 'ignore',
      },
    );
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        execFileSync('git', ['ls-remote', `git://127.0.0.1:${port}/repo.git`], { stdio: 'ignore' });
        url = `git://127.0.0.1:${port}/repo.git`;
        break;
      } catch {
        if (daemon.exitCode !== null) break;
      }
    }
    if (!url) daemon.kill();
  }
  if (!url) throw new Error('git daemon did not start');
}

/** Moves `main` on the served repo. */
function pushCommit(file: string): string {
  writeFileSync(join(work, file), `${file}\n`);
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', file);
  git(work, 'push', '-q', join(work, '..', 'repo.git'), 'main');
  return git(work, 'rev-parse', 'HEAD');
}

beforeAll(serve);
afterAll(() => {
  daemon?.kill();
});

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
    const moved = pushCommit('c.txt');
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
});
