import { Header } from 'tar/header';
import { StoreError } from '../errors.js';

/**
 * One tar entry as tsbuild writes it (pure data; the writer turns a diff dir into these). `path` and
 * `linkpath` are byte strings ('latin1': one char per byte), so names that are not UTF-8 survive.
 */
export interface TarEntry {
  path: string;
  type: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (whole seconds: deterministic). */
  mtime: number;
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: [string, Buffer][];
}

export const BLOCK = 512;

/** PAX record: "<len> <key>=<value>\n" where len counts the whole record, itself included. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

const TYPEFLAG: Record<TarEntry['type'] | 'ExtendedHeader', string> = {
  File: '0',
  Link: '1',
  SymbolicLink: '2',
  CharacterDevice: '3',
  BlockDevice: '4',
  Directory: '5',
  FIFO: '6',
  ExtendedHeader: 'x',
};

const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

function writeOctal(buf: Buffer, off: number, len: number, n: number): void {
  // Digit by digit into the block (the writer's hot path: a template string per field cost more).
  let v = Math.floor(n);
  buf[off + len - 1] = 0;
  for (let i = off + len - 2; i >= off; i--) {
    buf[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}

const ASCII = {
  test: (s: string): boolean => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0 || c > 0x7f) return false;
    }
    return true;
  },
};

/** Splits a long ASCII path into ustar prefix (≤155) and name (≤100) at a '/'; undefined if impossible. */
function splitUstar(path: string): [prefix: string, name: string] | undefined {
  if (path.length <= 100) return ['', path];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    if (i <= 155 && path.length - i - 1 <= 100 && path.length - i - 1 > 0)
      return [path.slice(0, i), path.slice(i + 1)];
  }
  return undefined;
}

/**
 * One ustar header block. Our own encoder (the layer writer's hot path: node-tar's Header costs
 * ~25 µs an entry); node-tar's Header decodes it in the tests and the extractor. Returns false when
 * a field does not fit ustar and a PAX record must carry it.
 */
function encodeUstar(
  block: Buffer,
  e: {
    path: string;
    type: keyof typeof TYPEFLAG;
    mode: number;
    uid: number;
    gid: number;
    size: number;
    mtime: number;
    linkpath?: string;
    devmajor?: number;
    devminor?: number;
  },
): boolean {
  let fits = true;
  const split = ASCII.test(e.path) ? splitUstar(e.path) : undefined;
  if (!split) fits = false;
  const [prefix, name] = split ?? ['', e.path.slice(0, 99)];
  block.write(name, 0, 100, 'latin1');
  writeOctal(block, 100, 8, e.mode & 0o7777);
  for (const [off, v] of [
    [108, e.uid],
    [116, e.gid],
  ] as const) {
    if (v > MAX_OCTAL_8) fits = false;
    writeOctal(block, off, 8, Math.min(v, MAX_OCTAL_8));
  }
  if (e.size > MAX_OCTAL_12) fits = false;
  writeOctal(block, 124, 12, Math.min(e.size, MAX_OCTAL_12));
  writeOctal(block, 136, 12, Math.max(0, Math.min(e.mtime, MAX_OCTAL_12)));
  block.write(TYPEFLAG[e.type], 156, 1, 'ascii');
  const link = e.linkpath ?? '';
  if (link.length > 100 || !ASCII.test(link)) fits = false;
  if (link) block.write(fits || link.length <= 100 ? link : link.slice(0, 100), 157, 100, 'latin1');
  block.write('ustar\x0000', 257, 8, 'ascii');
  writeOctal(block, 329, 8, e.devmajor ?? 0);
  writeOctal(block, 337, 8, e.devminor ?? 0);
  if (prefix) block.write(prefix, 345, 155, 'ascii');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return fits;
}

/**
 * The header block(s) of an entry: a PAX extended header first when a field does not fit ustar
 * (long or non-ASCII names, big ids or sizes) or there are xattrs (SCHILY.xattr.*, like GNU tar
 * and Go's archive/tar), then the ustar header. uname/gname empty, no atime/ctime: deterministic.
 */
export function encodeEntryHeader(e: TarEntry): Buffer {
  const block = Buffer.alloc(BLOCK);
  const fits = encodeUstar(block, e);
  const records: Buffer[] = [];
  if (!fits) {
    records.push(paxRecord('path', Buffer.from(e.path, 'latin1')));
    if (e.linkpath) records.push(paxRecord('linkpath', Buffer.from(e.linkpath, 'latin1')));
    if (e.size > MAX_OCTAL_12) records.push(paxRecord('size', Buffer.from(String(e.size))));
    if (e.uid > MAX_OCTAL_8) records.push(paxRecord('uid', Buffer.from(String(e.uid))));
    if (e.gid > MAX_OCTAL_8) records.push(paxRecord('gid', Buffer.from(String(e.gid))));
  }
  for (const [name, value] of e.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${name}`, value));
  if (records.length === 0) return block;
  const data = Buffer.concat(records);
  const base = e.path.replace(/\/$/, '').split('/').pop() ?? '';
  const pblock = Buffer.alloc(BLOCK);
  const paxName = `PaxHeaders.0/${ASCII.test(base) ? base : 'entry'}`.slice(0, 99);
  encodeUstar(pblock, {
    path: paxName,
    type: 'ExtendedHeader',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: e.mtime,
  });
  return Buffer.concat([pblock, data, Buffer.alloc(padding(data.length)), block]);
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Parsed PAX records. Binary values (xattrs) stay bytes. Bounded by the caller's size limit. */
export function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) break;
    const sp = buf.indexOf(0x20, off);
    if (sp < 0 || sp - off > 20) throw invalid('bad PAX record length');
    const len = Number(buf.subarray(off, sp).toString('ascii'));
    if (!Number.isSafeInteger(len) || len <= sp - off || off + len > buf.length)
      throw invalid('bad PAX record length');
    const rec = buf.subarray(sp + 1, off + len - 1);
    if (buf[off + len - 1] !== 0x0a) throw invalid('PAX record without newline');
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw invalid('PAX record without =');
    out.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}

export function invalid(msg: string): StoreError {
  return new StoreError('LAYER_INVALID', `invalid layer tar: ${msg}`);
}

/** Decodes a header block; validates checksum and numeric fields ("huge header values" fail here). */
export function decodeHeader(block: Buffer): Header | undefined {
  if (block.every((b) => b === 0)) return undefined;
  const h = new Header(block, 0);
  if (!h.cksumValid) throw invalid('header checksum mismatch');
  // node-tar reads devmajor/minor only for POSIX ustar magic; GNU tar ("ustar  ") has them too.
  const magic = block.subarray(257, 263).toString('latin1');
  if (magic.startsWith('ustar')) {
    h.devmaj = readOctal(block, 329, 8) ?? 0;
    h.devmin = readOctal(block, 337, 8) ?? 0;
  }
  return h;
}

function readOctal(buf: Buffer, off: number, size: number): number | undefined {
  if ((buf[off]! & 0x80) !== 0) return undefined;
  const s = buf
    .subarray(off, off + size)
    .toString('latin1')
    .replace(/\0.*$/, '')
    .trim();
  if (s === '') return 0;
  const n = Number.parseInt(s, 8);
  return Number.isNaN(n) ? undefined : n;
}
