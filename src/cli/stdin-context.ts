import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TsbuildError } from '../errors.js';
import { extractArchive } from '../solver/ops/unpack.js';

export interface StdinContext {
  /** The context dir to build. */
  dir: string;
  /** `-f` inside the archive, when given. */
  file?: string;
  /** stdin held only a Dockerfile. */
  dockerfileText?: string;
  /** A tarball's owners are kept, as BuildKit unpacks one (the docker CLI resets only a dir's). */
  keepOwners?: boolean;
  cleanup(): Promise<void>;
}

/**
 * `tsbuild build -` as `docker build -` (docker/cli GetContextFromReader): stdin is either a tar of
 * the context (plain, gzip, bzip2, xz or zstd; `-f` names a path inside it) or the Dockerfile alone,
 * with an empty context. stdin is spooled to a temp file: its kind shows only in its first bytes,
 * and the archive reader (ADD's, confined to its destination) reads a file.
 */
export async function stdinContext(file: string | undefined): Promise<StdinContext> {
  if (file === '-')
    throw new TsbuildError(
      'USAGE',
      "invalid argument: can't use stdin for both build context and dockerfile",
    );
  const tmp = await mkdtemp(join(tmpdir(), 'tsbuild-stdin-'));
  try {
    const spool = join(tmp, 'stdin');
    await pipeline(process.stdin, createWriteStream(spool));
    return await spooledContext(tmp, spool, file);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** A spooled context (stdin or a URL's body) in `tmp`: a tar extracted, else the Dockerfile itself. */
export async function spooledContext(
  tmp: string,
  spool: string,
  file: string | undefined,
): Promise<StdinContext> {
  const cleanup = () => rm(tmp, { recursive: true, force: true });
  const dir = join(tmp, 'context');
  await mkdir(dir);
  try {
    await extractArchive(spool, dir, '/');
  } catch (e) {
    if (!(e instanceof TsbuildError && e.code === 'ADD_NOT_ARCHIVE')) throw e;
    return { dir, dockerfileText: await readFile(spool, 'utf8'), cleanup };
  }
  await rm(spool);
  return { dir, ...(file ? { file: join(dir, file) } : {}), keepOwners: true, cleanup };
}
