import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t',
};
const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: gitEnv }).trim();

export interface GitServer {
  /** `git://127.0.0.1:PORT/repo.git` */
  url: string;
  /** The bare repository's path on this host (for other transports: ssh). */
  repo: string;
  /** The commits: `v1` (an annotated tag: a.txt, sub/s.txt, run.sh, link) and `two` (adds b.txt, main). */
  commits: { v1: string; two: string };
  /** Commits `files` on top of main, pushes, returns the commit. */
  push(files: Record<string, string>): string;
  stop(): void;
}

/** A repository served by a real `git daemon` on 127.0.0.1 (a random port, retried). */
export async function startGitServer(): Promise<GitServer> {
  const base = mkdtempSync(join(tmpdir(), 'tsb-git-srv-'));
  const work = join(base, 'work');
  mkdirSync(join(work, 'sub'), { recursive: true });
  git(work, 'init', '-q', '-b', 'main');
  writeFileSync(join(work, 'a.txt'), 'hello\n');
  writeFileSync(join(work, 'sub', 's.txt'), 'sub\n');
  writeFileSync(join(work, 'run.sh'), '#!/bin/sh\necho x\n', { mode: 0o755 });
  symlinkSync('a.txt', join(work, 'link'));
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'one');
  git(work, 'tag', '-a', 'v1', '-m', 'v1');
  const v1 = git(work, 'rev-parse', 'HEAD');
  writeFileSync(join(work, 'b.txt'), 'two\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'two');
  const two = git(work, 'rev-parse', 'HEAD');
  execFileSync('git', ['clone', '-q', '--bare', work, join(base, 'repo.git')]);
  const { daemon, url } = await listen(base);
  return {
    url,
    repo: join(base, 'repo.git'),
    commits: { v1, two },
    push(files) {
      for (const [p, c] of Object.entries(files)) {
        mkdirSync(join(work, p, '..'), { recursive: true });
        writeFileSync(join(work, p), c);
      }
      git(work, 'add', '-A');
      git(work, 'commit', '-qm', Object.keys(files).join(' '));
      git(work, 'push', '-q', join(base, 'repo.git'), 'main');
      return git(work, 'rev-parse', 'HEAD');
    },
    stop: () => daemon.kill(),
  };
}

async function listen(base: string): Promise<{ daemon: ChildProcess; url: string }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const args = [
      'daemon',
      '--export-all',
      `--base-path=${base}`,
      `--port=${port}`,
      '--listen=127.0.0.1',
      '--reuseaddr',
    ];
    const daemon = spawn('git', args, { stdio: 'ignore' });
    const url = `git://127.0.0.1:${port}/repo.git`;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        execFileSync('git', ['ls-remote', url], { stdio: 'ignore' });
        return { daemon, url };
      } catch {
        if (daemon.exitCode !== null) break;
      }
    }
    daemon.kill();
  }
  throw new Error('git daemon did not start');
}
