import { execFile } from 'node:child_process';
import { lchown, lstat, mkdir, readdir, realpath, rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { TsbuildError } from '../../errors.js';
import { type SshSource, sshAgentProxy } from '../../runner/index.js';
import { digestOf, type GitOp } from '../graph.js';
import type { OpImpl } from '../scheduler.js';
import type { SolvedFs, SolverEnv } from './env.js';
import { sourceSnapshot } from './snapshots.js';

// ADD <git url> as BuildKit's git source: the ref resolved to a commit with `git ls-remote` (that
// commit is the cache key, so a moved branch re-runs the step and nothing else does), the commit
// fetched shallow into a fresh repository and checked out (submodules too), the tree (or its
// `#ref:subdir`) stored as a snapshot owned by 0:0, without `.git` unless --keep-git-dir. Over ssh
// with `--ssh default=...`, git talks through that agent as BuildKit's git source does (withSsh).

const SHA = /^[0-9a-f]{40}$/;

export function gitOp(env: SolverEnv): OpImpl {
  const commits = new Map<string, Promise<string>>();
  const commitOf = (op: GitOp, signal: AbortSignal) => {
    const k = `${op.remote}#${op.ref ?? ''}`;
    let p = commits.get(k);
    if (!p) {
      p = withSsh(env.ssh, op.remote, (gitEnv) => resolveCommit(op, signal, gitEnv));
      commits.set(k, p);
      p.catch(() => commits.delete(k));
    }
    return p;
  };
  return {
    async cacheKey(v, _inputKeys, ctx) {
      const op = v.op as GitOp;
      const commit = await commitOf(op, ctx.signal);
      checkCommit(op, commit, 'ADD_CHECKSUM_MISMATCH');
      return digestOf({
        git: op.remote,
        commit,
        subdir: op.subdir ?? '',
        keepGitDir: op.keepGitDir,
        // Only when given: keys made without it stay the same.
        ...(op.submodules === false ? { submodules: false } : {}),
      });
    },
    async exec(v, _inputs, ctx) {
      const op = v.op as GitOp;
      const commit = await commitOf(op, ctx.signal);
      const work = await env.store.tempDir('git');
      try {
        await withSsh(env.ssh, op.remote, (gitEnv) => checkout(op, commit, work, ctx.signal, gitEnv));
        const result: SolvedFs = await sourceSnapshot(env, ctx, (dir) => moveTree(op, work, dir));
        return result;
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}

/** The ref's commit: a full commit id as given, else the remote's peeled tag, branch or exact ref. */
export async function resolveCommit(
  op: Pick<GitOp, 'remote' | 'ref'>,
  signal: AbortSignal,
  gitEnv: GitEnv = {},
): Promise<string> {
  if (op.ref && SHA.test(op.ref)) return op.ref;
  const out = await git(['ls-remote', '--', op.remote], signal, gitEnv);
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [sha, name] = line.split('\t');
    if (sha && name) refs.set(name, sha);
  }
  const ref = op.ref ?? 'HEAD';
  for (const name of [`refs/tags/${ref}^{}`, `refs/tags/${ref}`, `refs/heads/${ref}`, `${ref}^{}`, ref]) {
    const sha = refs.get(name);
    if (sha) return sha;
  }
  throw new TsbuildError('GIT_REF_NOT_FOUND', `failed to resolve ${ref} in ${op.remote}`, {
    hint: 'name a branch, a tag or a full 40-character commit id after #',
  });
}

/** The commit a ref resolved to must be the one `checksum` names (a prefix of it), if any. */
export function checkCommit(
  op: Pick<GitOp, 'remote' | 'ref' | 'checksum'>,
  commit: string,
  code: string,
): void {
  if (op.checksum && !commit.startsWith(op.checksum.toLowerCase()))
    throw new TsbuildError(code, `expected checksum to match ${op.checksum}, got ${commit}`, {
      hint: `${op.remote}#${op.ref ?? 'HEAD'} does not resolve to the commit the checksum names`,
    });
}

/** A shallow fetch of the commit (by its ref first: every server serves those), then its checkout. */
export async function checkout(
  op: Pick<GitOp, 'remote' | 'ref' | 'submodules'>,
  commit: string,
  dir: string,
  signal: AbortSignal,
  gitEnv: GitEnv = {},
): Promise<void> {
  await git(['init', '-q', dir], signal, gitEnv);
  const wants = [...(op.ref && !SHA.test(op.ref) ? [op.ref] : []), commit];
  let fetched = false;
  for (const want of wants) {
    const ok = await git(
      ['-C', dir, 'fetch', '-q', '--depth=1', '--no-tags', '--', op.remote, want],
      signal,
      gitEnv,
    )
      .then(() => git(['-C', dir, 'rev-parse', 'FETCH_HEAD^{commit}'], signal, gitEnv))
      .then((sha) => sha.trim() === commit)
      .catch((e: unknown) => {
        if (signal.aborted) throw e;
        return false;
      });
    if (ok) {
      fetched = true;
      break;
    }
  }
  // A server that serves neither (a commit no ref points at, without allowReachableSHA1InWant).
  if (!fetched)
    await git(
      ['-C', dir, 'fetch', '-q', '--no-tags', '--', op.remote, '+refs/*:refs/remotes/all/*'],
      signal,
      gitEnv,
    );
  await git(['-C', dir, '-c', 'advice.detachedHead=false', 'checkout', '-q', commit], signal, gitEnv);
  if (op.submodules !== false && (await exists(join(dir, '.gitmodules'))))
    await git(['-C', dir, 'submodule', 'update', '-q', '--init', '--recursive', '--depth=1'], signal, gitEnv);
}

/** The checkout (or its subdir, which must stay inside it) moved into the snapshot, owned by 0:0. */
async function moveTree(op: GitOp, work: string, diff: string): Promise<void> {
  const from = op.subdir ? await subdirOf(work, op.subdir, op.remote) : work;
  await mkdir(diff, { recursive: true });
  for (const name of await readdir(from)) {
    if (name === '.git' && !(op.keepGitDir && !op.subdir)) continue;
    await rename(join(from, name), join(diff, name));
  }
  await chownTree(diff);
}

/** `#ref:subdir`'s directory, symlinks followed, which must stay inside the checkout. */
export async function subdirOf(work: string, subdir: string, remote: string): Promise<string> {
  const dir = await realpath(join(work, subdir)).catch(() => '');
  const rel = dir ? relative(work, dir) : '..';
  if (rel.startsWith('..') || !(await lstat(dir)).isDirectory())
    throw new TsbuildError('GIT_SUBDIR', `${subdir} is not a directory of ${remote}`);
  return dir;
}

async function chownTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    await lchown(p, 0, 0);
    if (e.isDirectory()) await chownTree(p);
  }
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

type GitEnv = Record<string, string>;

/** A remote git reaches over ssh: `ssh://` or scp-like `user@host:path`. */
export const isSshRemote = (remote: string): boolean => /^(ssh:\/\/|[\w.-]+@[^/:]+:)/.test(remote);

/**
 * Runs `fn` with git's ssh pointed at the build's `--ssh default` agent when the remote is ssh (`git@`,
 * `user@host:path`, `ssh://`), as BuildKit's git source mounts that id's socket (llb.Git's default
 * MountSSHSock) and runs `ssh -F /dev/null` without host key checks (its known hosts come from a
 * keyscan as the Dockerfile is read: trust on first use). Without `--ssh`, where BuildKit has no agent
 * to offer, git uses the caller's own ssh set-up.
 */
export async function withSsh<T>(
  ssh: Record<string, SshSource>,
  remote: string,
  fn: (gitEnv: GitEnv) => Promise<T>,
): Promise<T> {
  const agent = ssh.default;
  if (!agent || !isSshRemote(remote)) return fn({});
  const proxy = await sshAgentProxy(agent, { dir: '/dev/shm' });
  try {
    return await fn({
      SSH_AUTH_SOCK: proxy.path,
      GIT_SSH_COMMAND:
        'ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR',
    });
  } finally {
    await proxy.close();
  }
}

/** Runs git without a terminal prompt; its stderr's last lines make the error. */
function git(args: string[], signal: AbortSignal, gitEnv: GitEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        signal,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C', ...gitEnv },
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if (signal.aborted) return reject(signal.reason);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT')
          return reject(
            new TsbuildError('GIT_NOT_FOUND', 'ADD of a git repository needs git', {
              hint: 'install git (apt-get install git)',
            }),
          );
        const tail = String(stderr).trim().split('\n').slice(-3).join('\n');
        reject(new TsbuildError('GIT_FAILED', `git ${args.filter((a) => a !== '-q').join(' ')}: ${tail}`));
      },
    );
  });
}
