import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TsbuildError } from '../errors.js';
import { httpGetOr } from '../registry/http-get.js';
import { isGitSource, parseGitRef } from '../solver/frontend/git-ref.js';
import {
  checkCommit,
  checkout,
  isSshRemote,
  resolveCommit,
  subdirOf,
  withSsh,
} from '../solver/ops/git-op.js';
import { parseSsh } from '../solver/secrets.js';
import { type StdinContext, spooledContext } from './stdin-context.js';

/**
 * `docker build URL`: a git repository (`#ref:subdir` as for ADD) is fetched at that commit, without
 * `.git`, and its subdir is the context (`-f` relative to it), files owned by the builder as
 * BuildKit's git source makes them; any other URL is downloaded and taken as `docker build -` takes
 * stdin: a tarball (compressed or not) is the context, anything else the Dockerfile. A repository
 * over ssh is fetched through `--ssh default` when given, as ADD's (git-op.ts withSsh).
 */
export async function remoteContext(
  context: string,
  file: string | undefined,
  signal: AbortSignal,
  ssh: string[] = [],
): Promise<StdinContext> {
  const tmp = await mkdtemp(join(tmpdir(), 'tsbuild-remote-'));
  try {
    if (isGitSource(context)) return await gitContext(context, file, tmp, signal, ssh);
    const failed = (why: string, cause?: unknown) =>
      new TsbuildError('CONTEXT_URL_FAILED', `unable to download ${context}: ${why}`, cause ? { cause } : {});
    const res = await httpGetOr(context, signal, failed);
    if (res.status < 200 || res.status >= 300) {
      res.body.resume();
      throw failed(`HTTP ${res.status}`);
    }
    const spool = join(tmp, 'download');
    await pipeline(res.body, createWriteStream(spool), { signal });
    return await spooledContext(tmp, spool, file);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function gitContext(
  url: string,
  file: string | undefined,
  tmp: string,
  signal: AbortSignal,
  ssh: string[],
) {
  const { subdir, keepGitDir, ...op } = parseGitRef(url);
  const repo = join(tmp, 'repo');
  await mkdir(repo);
  // --ssh is read here only for a remote that needs it (the build reads it again for its steps).
  const sources = isSshRemote(op.remote) ? parseSsh(ssh) : {};
  await withSsh(sources, op.remote, async (gitEnv) => {
    const commit = await resolveCommit(op, signal, gitEnv);
    checkCommit(op, commit, 'CONTEXT_CHECKSUM_MISMATCH');
    await checkout(op, commit, repo, signal, gitEnv);
  });
  if (!keepGitDir) await rm(join(repo, '.git'), { recursive: true, force: true });
  const dir = subdir ? await subdirOf(repo, subdir, op.remote) : repo;
  return {
    dir,
    ...(file ? { file: join(dir, file) } : {}),
    cleanup: () => rm(tmp, { recursive: true, force: true }),
  };
}
