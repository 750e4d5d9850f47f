import { closeSync, rmSync } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { Header } from 'tar/header';
import { TsbuildError } from '../../errors.js';
import { decodeName, fsPath, nfs } from '../../fs-names.js';
import { boundTime } from '../../fs-times.js';
import { deviceNumbers, makeNodes, tarHeaderField, tarHeaderName, toByteString } from '../../store/index.js';
import { PendingXattrs } from './archive-xattrs.js';
import { lstatOrUndefined } from './copy-io.js';
import type { Owner } from './copy-tree.js';
import { resolveInRoot } from './secure-path.js';
import { Blocks, parsePax, sparseOf, writeData, writeSparse } from './tar-blocks.js';

// ADD's tar extraction, as moby's Untar (pkg/archive) does it: entries in order, each replacing what
// its name held, links resolved inside the destination, xattrs and directory times at the end.

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

export interface UntarOptions {
  /** `--chown`: every entry's owner. */
  owner?: Owner | undefined;
  /** Read the stream to its end after the archive's end (a decompressing tool must exit well). */
  drain: boolean;
}

/** One archive entry: its header with the PAX and GNU long-name records before it applied. */
interface Entry {
  h: Header;
  block: Buffer;
  type: string;
  name: string;
  linkpath: string;
  pax: Record<string, string>;
  size: number;
  padded: number;
  sparse: ReturnType<typeof sparseOf>;
}

/** Extracts the tar `stream` (named `archive` in errors) into the directory `base`. */
export async function untar(stream: Readable, archive: string, base: string, o: UntarOptions): Promise<void> {
  const r = new Blocks(stream);
  const dirs: [string, number][] = [];
  const xattrs = new PendingXattrs(base);
  for (let e = await nextEntry(r, archive); e; e = await nextEntry(r, archive)) {
    const host = entryPath(base, e.name);
    // The archive's own root entry (`./`) leaves the destination as it is: moby's Unpack skips a
    // name that cleans to "." when the directory exists (ensureDir made it). A directory entry
    // that lands on it under another name (`/`, `../`, which the chroot keeps at its top) is
    // merged into it as any directory is: its mode, owner and time become the destination's. Any
    // other entry there would replace the destination itself: BuildKit fails it (its RemoveAll of
    // the chroot's `/`: "device or resource busy"), and so does this, saying why.
    if (host === base && isDotName(e.name)) {
      await r.skip(e.padded);
      continue;
    }
    if (host === base && e.type !== 'Directory') {
      throw new TsbuildError(
        'ADD_BAD_TAR',
        `${archive}: entry ${e.name} (${e.type}) would replace the destination itself`,
      );
    }
    ensureParent(base, e.name, host, archive);
    await applyEntry(r, e, { base, host, archive, owner: o.owner, xattrs, dirs });
  }
  if (o.drain) await r.drain();
  else await r.close();
  await xattrs.apply();
  for (const [d, t] of dirs.reverse()) nfs.utimes(d, t, t);
}

/** Go's filepath.Clean(name) == "." (posix.normalize keeps a trailing slash and gives "" as "."). */
function isDotName(name: string): boolean {
  const cleaned = posix.normalize(name);
  return !cleaned.startsWith('/') && cleaned.replace(/\/+$/, '') === '.';
}

/** A byte-string header field as a name (fs-names.ts escapes for what is not UTF-8). */
function fromBytes(s: string): string {
  return decodeName(Buffer.from(s, 'latin1'));
}

/** A GNU long name or link record: NUL-terminated. */
function cString(data: Buffer): string {
  const nul = data.indexOf(0);
  return decodeName(nul < 0 ? data : data.subarray(0, nul));
}

/** The next file entry, metadata entries folded in; undefined at the archive's end. */
async function nextEntry(r: Blocks, archive: string): Promise<Entry | undefined> {
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.read(512);
    if (!block) return undefined;
    const h = new Header(block);
    if (h.nullBlock) {
      if (await endOfArchive(r, archive)) return undefined;
      continue;
    }
    if (!h.cksumValid) throw new TsbuildError('ADD_BAD_TAR', `invalid tar header in ${archive}`);
    const size = Number(pax.size ?? h.size ?? 0);
    const padded = Math.ceil(size / 512) * 512;
    const type = h.type ?? '';
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
      else if (type === 'NextFileHasLongPath') longName = cString(data);
      else if (type === 'NextFileHasLongLinkpath') longLink = cString(data);
      continue;
    }
    // moby's Unpack knows these and fails on any other (GNU 'S' sparse, 'D' dump dirs, volume labels).
    if (!ENTRY_TYPES.has(type))
      throw new TsbuildError('ADD_BAD_TAR', `${archive}: unhandled tar header type ${block[156]}`, {
        hint: 'repack the archive with a plain tar (GNU tar: --format=posix; no --sparse with --format=gnu)',
      });
    // Names as their bytes (node-tar's Header decodes them as UTF-8, which loses the rest)
    const name = pax['GNU.sparse.name'] ?? pax.path ?? longName ?? fromBytes(tarHeaderName(block));
    const linkpath = pax.linkpath ?? longLink ?? fromBytes(tarHeaderField(block, 157, 100));
    return { h, block, type, name, linkpath, pax, size, padded, sparse: sparseOf(pax, archive) };
  }
}

interface Target {
  base: string;
  host: string;
  archive: string;
  owner: Owner | undefined;
  xattrs: PendingXattrs;
  dirs: [string, number][];
}

/** Makes the entry at `t.host`, replacing what was there (a directory over a directory merges). */
async function applyEntry(r: Blocks, e: Entry, t: Target): Promise<void> {
  const { h, type } = e;
  const host = t.host;
  const mode = (h.mode ?? 0o644) & 0o7777;
  // PAX uid/gid hold ids too large for the header (Go's archive/tar merges them in).
  const uid = t.owner?.uid ?? Number(e.pax.uid ?? h.uid ?? 0);
  const gid = t.owner?.gid ?? Number(e.pax.gid ?? h.gid ?? 0);
  // A PAX mtime (fractions of a second, before 1970, after 2242) wins, as in Go's archive/tar;
  // moby's Chtimes then bounds it.
  const paxMtime = e.pax.mtime !== undefined ? Number(e.pax.mtime) : Number.NaN;
  const raw = Number.isFinite(paxMtime) ? paxMtime : h.mtime ? h.mtime.getTime() / 1000 : undefined;
  const mtime = raw === undefined ? undefined : boundTime(raw);
  const existing = lstatOrUndefined(host);
  if (existing && !(existing.isDirectory() && type === 'Directory')) {
    rmSync(fsPath(host), { recursive: true, force: true });
    t.xattrs.removed(host);
  }
  // A hard link entry chowns the inode it shares, which drops its file capability (the kernel's
  // doing, in moby's unpack too) before this entry's own xattrs are set.
  if (type === 'Link') t.xattrs.chowned(entryPath(t.base, e.linkpath));
  t.xattrs.set(host, e.pax);
  if (type === 'Directory') {
    if (!existing?.isDirectory()) nfs.mkdir(host, 0o777);
    nfs.lchown(host, uid, gid);
    nfs.chmod(host, mode);
    if (mtime !== undefined) t.dirs.push([host, mtime]);
  } else if (type === 'SymbolicLink') {
    nfs.symlink(e.linkpath, host);
    nfs.lchown(host, uid, gid);
  } else if (type === 'Link') {
    nfs.link(entryPath(t.base, e.linkpath), host);
    // moby's createTarFile (and BuildKit's applyRootArchive) give the link entry's owner, mode
    // and mtime to the inode it shares with its target, unless that is a symlink.
    nfs.lchown(host, uid, gid);
    if (!nfs.lstat(host).isSymbolicLink()) {
      nfs.chmod(host, mode);
      if (mtime !== undefined) nfs.utimes(host, mtime, mtime);
    }
  } else if (type === 'File' || type === 'OldFile' || type === 'ContiguousFile') {
    await writeFileEntry(r, e, host, t.archive);
    // chown before chmod: a chown clears the setuid/setgid bits of a file, even for root.
    nfs.lchown(host, uid, gid);
    nfs.chmod(host, mode);
    if (mtime !== undefined) nfs.utimes(host, mtime, mtime);
    return;
  } else {
    await makeNode(e, host, t.archive);
    nfs.lchown(host, uid, gid);
    nfs.chmod(host, mode);
  }
  if (e.padded > 0) await r.skip(e.padded);
}

async function writeFileEntry(r: Blocks, e: Entry, host: string, archive: string): Promise<void> {
  const fd = nfs.open(host, 'w', 0o600);
  try {
    if (e.sparse) await writeSparse(r, fd, e.size, e.sparse, archive);
    else await writeData(r, fd, e.size, archive);
  } finally {
    closeSync(fd);
  }
  await r.read(e.padded - e.size);
}

/**
 * moby's Unpack makes FIFOs and (as root) device nodes; Node has no mknod(2): the store's
 * makeNodes, which names them as bytes (any name, UTF-8 or not). GNU tar's headers carry the device
 * numbers too, which node-tar reads only for POSIX ustar.
 */
async function makeNode(e: Entry, host: string, archive: string): Promise<void> {
  const dev = deviceNumbers(e.block);
  const type = e.type === 'FIFO' ? 'p' : e.type === 'BlockDevice' ? 'b' : 'c';
  const [major, minor] = type === 'p' ? [0, 0] : [dev.devmaj, dev.devmin];
  try {
    await makeNodes([{ path: toByteString(host), type, major, minor }]);
  } catch (err) {
    const why = (err as Error).message.replace(/^bash failed \(exit \d+\): /, '');
    const kind = type === 'p' ? 'p' : `${type} ${major} ${minor}`;
    throw new TsbuildError('ADD_BAD_TAR', `${archive}: cannot make ${e.name} (${kind}): ${why}`);
  }
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
    nfs.mkdir(followed, 0o755);
  }
}
