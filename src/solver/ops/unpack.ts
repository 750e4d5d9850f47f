import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  createReadStream,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Header } from 'tar/header';
import { TsbuildError } from '../../errors.js';
import { deviceNumbers } from '../../store/index.js';
import { PendingXattrs } from './archive-xattrs.js';
import { lstatOrUndefined } from './copy-io.js';
import type { Owner } from './copy-tree.js';
import { ensureDir } from './copy-tree.js';
import { resolveInRoot } from './secure-path.js';
import { Blocks, parsePax, sparseOf, writeData, writeSparse } from './tar-blocks.js';

type Kind = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'tar';

const META_LIMIT = 1 << 20;

const ENTRY_TYPES = new Set([
  'File',
  'OldFile',
  'ContiguousFile',
  'Directory',
  'SymbolicLink',
  'Link',
  'FIFO',
  'CharacterDevice',
  'BlockDevice',
]);

/** Sniffs a local ADD source: compressed streams by magic, plain tar by its header checksum. */
export async function archiveKind(path: string): Promise<Kind | undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    const b = buf.subarray(0, bytesRead);
    const compressed = compressionOf(b);
    if (compressed) return (await opensAsTar(path, compressed)) ? compressed : undefined;
    return bytesRead === 512 && isTarHeader(b) ? 'tar' : undefined;
  } finally {
    await fh.close();
  }
}

function compressionOf(b: Buffer): Exclude<Kind, 'tar'> | undefined {
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return undefined;
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
  const tool = kind === 'bzip2' ? 'bzip2' : kind === 'xz' ? 'xz' : 'zstd';
  const child = spawn(tool, ['-dc', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let why = '';
  child.stderr.on('data', (d: Buffer) => {
    if (why.length < 4096) why += d.toString();
  });
  // The stream ends only once the tool exited 0: a damaged or cut stream is an error even when what
  // came out so far ends where a tar entry does (Go's decompressors fail there too).
  const out = new PassThrough();
  // Its reader sees the error; one after the reader stopped (the probe) must not crash the process.
  out.on('error', () => {});
  child.stdout.pipe(out, { end: false });
  child.once('close', (code) => {
    if (code === 0) out.end();
    else if (!out.destroyed) {
      const first = why.trim().split('\n')[0]?.replaceAll(path, posix.basename(path));
      out.destroy(
        new TsbuildError('ADD_BAD_TAR', `${posix.basename(path)}: ${first || `${tool} -d exited ${code}`}`),
      );
    }
  });
  // A reader that stops early (the tar probe) destroys the stream; the tool must not outlive it.
  out.once('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return out;
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
    await untar(path, kind, base, owner);
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

async function untar(path: string, kind: Kind, base: string, owner?: Owner): Promise<void> {
  const r = new Blocks(decompressed(path, kind));
  const archive = posix.basename(path);
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  const dirs: [string, Date][] = [];
  const xattrs = new PendingXattrs(base);
  for (;;) {
    const block = await r.read(512);
    if (!block) break;
    const h = new Header(block);
    if (h.nullBlock) {
      if (await endOfArchive(r, archive)) break;
      continue;
    }
    if (!h.cksumValid) throw new TsbuildError('ADD_BAD_TAR', `invalid tar header in ${archive}`);
    const size = Number(pax.size ?? h.size ?? 0);
    const padded = Math.ceil(size / 512) * 512;
    const type = h.type;
    if (
      type === 'ExtendedHeader' ||
      type === 'GlobalExtendedHeader' ||
      type === 'NextFileHasLongPath' ||
      type === 'NextFileHasLongLinkpath'
    ) {
      // Go's archive/tar refuses metadata entries over 1 MiB (maxSpecialFileSize): a hostile size
      // must not make this read allocate gigabytes.
      if (size > META_LIMIT)
        throw new TsbuildError(
          'ADD_BAD_TAR',
          `invalid tar in ${archive}: ${size}-byte ${type} entry (limit 1 MiB)`,
        );
      const data = (await r.read(padded))?.subarray(0, size) ?? Buffer.alloc(0);
      if (type === 'ExtendedHeader') pax = parsePax(data, archive);
      else if (type === 'NextFileHasLongPath') longName = data.toString('utf8').replace(/\0+$/, '');
      else if (type === 'NextFileHasLongLinkpath') longLink = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const sparse = sparseOf(pax, archive);
    const name = pax['GNU.sparse.name'] ?? pax.path ?? longName ?? h.path ?? '';
    const linkpath = pax.linkpath ?? longLink ?? h.linkpath ?? '';
    const entryPax = pax;
    pax = {};
    longName = undefined;
    longLink = undefined;
    // moby's Unpack knows these and fails on any other (GNU 'S' sparse, 'D' dump dirs, volume labels).
    if (!ENTRY_TYPES.has(type ?? ''))
      throw new TsbuildError('ADD_BAD_TAR', `${archive}: unhandled tar header type ${block[156]}`, {
        hint: 'repack the archive with a plain tar (GNU tar: --format=posix; no --sparse with --format=gnu)',
      });
    const host = entryPath(base, name);
    // The archive's own root entry (`./`) leaves the destination as it is (moby's Unpack skips "."
    // when the directory exists, and ensureDir made it).
    if (host === base || posix.normalize(`${name}/`) === './') {
      await r.skip(padded);
      continue;
    }
    ensureParent(base, name, host, path);
    const mode = (h.mode ?? 0o644) & 0o7777;
    // PAX uid/gid hold ids too large for the header (Go's archive/tar merges them in).
    const uid = owner?.uid ?? Number(entryPax.uid ?? h.uid ?? 0);
    const gid = owner?.gid ?? Number(entryPax.gid ?? h.gid ?? 0);
    const existing = lstatOrUndefined(host);
    if (existing && !(existing.isDirectory() && type === 'Directory')) {
      rmSync(host, { recursive: true, force: true });
      xattrs.removed(host);
    }
    // A hard link entry chowns the inode it shares, which drops its file capability (the kernel's
    // doing, in moby's unpack too) before this entry's own xattrs are set.
    if (type === 'Link') xattrs.chowned(entryPath(base, linkpath));
    xattrs.set(host, entryPax);
    if (type === 'Directory') {
      if (!existing?.isDirectory()) mkdirSync(host);
      lchownSync(host, uid, gid);
      chmodSync(host, mode);
      if (h.mtime) dirs.push([host, h.mtime]);
    } else if (type === 'SymbolicLink') {
      symlinkSync(linkpath, host);
      lchownSync(host, uid, gid);
    } else if (type === 'Link') {
      linkSync(entryPath(base, linkpath), host);
      // moby's createTarFile (and BuildKit's applyRootArchive) give the link entry's owner, mode
      // and mtime to the inode it shares with its target, unless that is a symlink.
      lchownSync(host, uid, gid);
      if (!lstatSync(host).isSymbolicLink()) {
        chmodSync(host, mode);
        if (h.mtime) utimesSync(host, h.mtime, h.mtime);
      }
    } else if (type === 'File' || type === 'OldFile' || type === 'ContiguousFile') {
      const fd = openSync(host, 'w', 0o600);
      try {
        if (sparse) await writeSparse(r, fd, size, sparse, archive);
        else await writeData(r, fd, size, archive);
      } finally {
        closeSync(fd);
      }
      await r.read(padded - size);
      // chown before chmod: a chown clears the setuid/setgid bits of a file, even for root.
      lchownSync(host, uid, gid);
      chmodSync(host, mode);
      if (h.mtime) utimesSync(host, h.mtime, h.mtime);
      continue;
    } else if (type === 'FIFO' || type === 'CharacterDevice' || type === 'BlockDevice') {
      // moby's Unpack makes FIFOs and (as root) device nodes; Node has no mknod(2). GNU tar's
      // headers carry the device numbers too, which node-tar reads only for POSIX ustar.
      const dev = deviceNumbers(block);
      const kind =
        type === 'FIFO'
          ? ['p']
          : [type === 'BlockDevice' ? 'b' : 'c', String(dev.devmaj), String(dev.devmin)];
      try {
        execFileSync('mknod', [host, ...kind], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (e) {
        const why = String((e as { stderr?: Buffer }).stderr ?? '').trim() || (e as Error).message;
        throw new TsbuildError('ADD_BAD_TAR', `${archive}: cannot make ${name} (${kind.join(' ')}): ${why}`);
      }
      lchownSync(host, uid, gid);
      chmodSync(host, mode);
    }
    if (padded > 0) await r.skip(padded);
  }
  // What follows the end of the archive is not read (Go's archive/tar stops there), but a tool's
  // stream still has to end well (moby waits for xz and reports its failure).
  if (kind === 'gzip' || kind === 'tar') await r.close();
  else await r.drain();
  await xattrs.apply();
  for (const [d, t] of dirs.reverse()) utimesSync(d, t, t);
}

/**
 * After a zero block: a second one ends the archive, as in Go's archive/tar (a second tar
 * concatenated after it is not extracted, as BuildKit's ADD leaves it); so does the end of the
 * data. A header after a single zero block is an invalid tar there.
 */
async function endOfArchive(r: Blocks, archive: string): Promise<boolean> {
  const next = await r.read(512);
  if (!next || next.every((b) => b === 0)) return true;
  throw new TsbuildError('ADD_BAD_TAR', `invalid tar header in ${archive}: a zero block before an entry`);
}

/**
 * An entry's host path under the destination `base`. Untar runs chrooted with the destination as
 * `/`, so a name climbing above it (`../../x`) stays at its top, as BuildKit's does.
 */
function entryPath(base: string, name: string): string {
  return resolveInRoot(base, posix.normalize(`/${name}`), false);
}

/**
 * moby's Untar makes a missing parent with MkdirAll (0755, root's), following the tree's symlinks
 * inside the destination; like MkdirAll it fails on a symlink that leads nowhere or on a
 * non-directory, and so does this, as BuildKit's ADD does.
 */
function ensureParent(base: string, name: string, host: string, archive: string): void {
  // The common case, one lstat: the (resolved) parent is there.
  if (lstatOrUndefined(posix.dirname(host))?.isDirectory()) return;
  const comps = posix.normalize(`/${name}`).split('/').filter(Boolean).slice(0, -1);
  for (let k = 1; k <= comps.length; k++) {
    const prefix = `/${comps.slice(0, k).join('/')}`;
    const followed = resolveInRoot(base, prefix, true);
    const st = lstatOrUndefined(followed);
    if (st?.isDirectory()) continue;
    if (st || lstatOrUndefined(resolveInRoot(base, prefix, false))?.isSymbolicLink()) {
      throw new TsbuildError(
        'ADD_BAD_TAR',
        `${posix.basename(archive)}: open /${posix.normalize(name)}: ${st ? 'not a directory' : 'no such file or directory'}`,
        { hint: `${prefix} in the destination is ${st ? 'not a directory' : 'a symlink to nothing'}` },
      );
    }
    mkdirSync(followed, { mode: 0o755 });
  }
}
