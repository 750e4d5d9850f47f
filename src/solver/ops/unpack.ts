import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Header } from 'tar/header';
import { TsbuildError } from '../../errors.js';
import { type ArchiveCompression, sniffCompression, toolDecompress } from '../../store/index.js';
import type { Owner } from './copy-tree.js';
import { ensureDir } from './copy-tree.js';
import { Blocks } from './tar-blocks.js';
import { untar } from './untar.js';

type Kind = ArchiveCompression | 'tar';

/** Sniffs a local ADD source: compressed streams by magic, plain tar by its header checksum. */
export async function archiveKind(path: string): Promise<Kind | undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    const b = buf.subarray(0, bytesRead);
    const compressed = sniffCompression(b);
    if (compressed) return (await opensAsTar(path, compressed)) ? compressed : undefined;
    return bytesRead === 512 && isTarHeader(b) ? 'tar' : undefined;
  } finally {
    await fh.close();
  }
}

function isTarHeader(block: Buffer): boolean {
  try {
    const h = new Header(block);
    return !h.nullBlock && h.cksumValid;
  } catch {
    // a field tar cannot decode (random bytes): Go's tar.Reader.Next fails too, so not an archive
    return false;
  }
}

/**
 * A compressed file is only an archive when what it decompresses to opens as a tar: BuildKit's
 * isArchivePath (DecompressStream, then tar.Reader.Next must succeed). Anything else, e.g. a
 * gzipped text file, is copied as it is, still compressed.
 */
async function opensAsTar(path: string, kind: Exclude<Kind, 'tar'>): Promise<boolean> {
  const stream = decompressed(path, kind);
  try {
    const block = await new Blocks(stream).read(512).catch(() => undefined);
    return block !== undefined && isTarHeader(block);
  } finally {
    stream.destroy();
  }
}

export async function isArchive(path: string): Promise<boolean> {
  return (await archiveKind(path)) !== undefined;
}

function decompressed(path: string, kind: Kind): Readable {
  if (kind === 'tar') return createReadStream(path);
  if (kind === 'gzip') {
    const file = createReadStream(path);
    const gz = file.pipe(createGunzip());
    gz.once('close', () => file.destroy());
    return gz;
  }
  return toolDecompress(kind, path, (why) => {
    const first = why.replaceAll(path, posix.basename(path));
    return new TsbuildError('ADD_BAD_TAR', `${posix.basename(path)}: ${first}`);
  });
}

/**
 * ADD of a local archive: extracts into `dest` (a directory) inside `root`. Entries keep their tar
 * mode and ids, or take `--chown`'s owner as BuildKit >= 0.23 gives it (moby/buildkit#5987; 0.8
 * kept the archive's, see the README's Conformance list); the destination dirs ADD creates get it too.
 */
export async function extractArchive(path: string, root: string, dest: string, owner?: Owner): Promise<void> {
  const kind = await archiveKind(path);
  if (!kind) throw new TsbuildError('ADD_NOT_ARCHIVE', `${path} is not an archive`);
  // moby's Untar runs chrooted into the destination: the archive's names, its symlinks (absolute
  // ones too) and hardlink targets resolve with the destination as `/`, never above it.
  const base = ensureDir(root, dest, owner ? { owner } : {});
  try {
    // What follows the end of the archive is not read (Go's archive/tar stops there), but a tool's
    // stream still has to end well (moby waits for xz and reports its failure).
    await untar(decompressed(path, kind), posix.basename(path), base, {
      owner,
      drain: kind !== 'gzip' && kind !== 'tar',
    });
  } catch (e) {
    throw tarError(e, path, base);
  }
}

/**
 * A system call an archive entry made fail (a hard link to nothing, a name through a file): said as
 * moby's "Error processing tar file" does, with the names inside the destination, not host paths.
 */
function tarError(e: unknown, archive: string, base: string): unknown {
  const x = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || e instanceof TsbuildError) return e;
  // A damaged stream (zlib's "unexpected end of file", a header field tar cannot decode).
  if (!x.syscall)
    return new TsbuildError(
      'ADD_BAD_TAR',
      `error processing tar file ${posix.basename(archive)}: ${x.message}`,
      {
        cause: e,
      },
    );
  const inDest = (p: unknown) =>
    typeof p === 'string' ? `/${posix.relative(base, p)}`.replace(/^\/\.\.?(\/|$)/, '/') : undefined;
  const names = [inDest(x.path), inDest((x as { dest?: unknown }).dest)].filter(Boolean).join(' ');
  const what = x.message.replace(/^[A-Z0-9]+: /, '').split(',')[0];
  return new TsbuildError(
    'ADD_BAD_TAR',
    `error processing tar file ${posix.basename(archive)}: ${x.syscall} ${names}: ${what}`,
    { cause: e },
  );
}
