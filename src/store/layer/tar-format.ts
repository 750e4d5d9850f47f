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
  // Before 1970 or past the 12 octal digits (2242): a PAX mtime, as Go's archive/tar writes it.
  if (e.mtime < 0 || e.mtime > MAX_OCTAL_12) records.push(paxRecord('mtime', Buffer.from(String(e.mtime))));
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

/** The header fields the reader uses (node-tar's `Header` names; mtime in seconds). */
export interface DecodedHeader {
  typeKey: string;
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  devmaj: number;
  devmin: number;
}

/**
 * Decodes a header block; validates checksum and numeric fields ("huge header values" fail here).
 * Plain ustar headers (octal digits, known type) are read here: node-tar's `Header` cost ~30 µs an
 * entry before the JIT warms, most of a base layer's parse. Anything else (base-256 numbers, odd
 * padding, unknown types) goes to node-tar's codec, whose results the fast path reproduces exactly.
 */
export function decodeHeader(block: Buffer): DecodedHeader | undefined {
  if (isZero(block)) return undefined;
  const fast = decodePlain(block);
  if (fast === null) throw invalid('header checksum mismatch');
  return fast ?? decodeWithNodeTar(block);
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** What node-tar's `decSmallNumber` gives (parseInt of the NUL-cut, trimmed field), or BAIL. */
const BAIL = -2;
const EMPTY = -1;
function octal(b: Buffer, off: number, len: number): number {
  const end = off + len;
  let i = off;
  if ((b[i]! & 0x80) !== 0) return BAIL; // base-256
  while (i < end && b[i] === 0x20) i++;
  if (i === end || b[i] === 0) return EMPTY;
  if (b[i]! < 0x30 || b[i]! > 0x37) return BAIL; // signs, other whitespace: node-tar decides
  let n = 0;
  for (; i < end && b[i]! >= 0x30 && b[i]! <= 0x37; i++) n = n * 8 + (b[i]! - 0x30);
  return n;
}

const PLAIN_TYPES = new Set([0, ...Buffer.from('01234567xgLK')]);

/** The plain-ustar fast path: undefined when node-tar must decide, null for a bad checksum. */
function decodePlain(b: Buffer): DecodedHeader | undefined | null {
  const t = b[156]!;
  if (!PLAIN_TYPES.has(t)) return undefined;
  const f = [octal(b, 100, 8), octal(b, 108, 8), octal(b, 116, 8), octal(b, 124, 12), octal(b, 136, 12)];
  const cksum = octal(b, 148, 12);
  if (f.includes(BAIL) || cksum === BAIL) return undefined;
  // node-tar's name is cut at the first NUL with a regex that stops at a newline: only a clean tail is plain.
  let nul = b.indexOf(0, 0);
  if (nul < 0 || nul > 100) nul = 100;
  for (let i = nul; i < 100; i++) if (b[i] !== 0) return undefined;
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += b[i]!;
  for (let i = 156; i < BLOCK; i++) sum += b[i]!;
  if (cksum === EMPTY || sum !== cksum) return null;
  let typeKey = t === 0 ? '0' : String.fromCharCode(t);
  if (typeKey === '0' && nul > 0 && b[nul - 1] === 0x2f) typeKey = '5';
  const val = (n: number) => (n === EMPTY ? undefined : n);
  const h: DecodedHeader = {
    typeKey,
    path: b.toString('utf8', 0, nul),
    mode: val(f[0]!),
    uid: val(f[1]!),
    gid: val(f[2]!),
    size: typeKey === '5' ? 0 : val(f[3]!),
    mtime: val(f[4]!),
    devmaj: 0,
    devmin: 0,
  };
  return Object.assign(h, deviceNumbers(b));
}

function devNumber(b: Buffer, off: number): number {
  const n = octal(b, off, 8);
  if (n === BAIL) return readOctal(b, off, 8) ?? 0;
  return n === EMPTY ? 0 : n;
}

/** glibc's major(3) of a stat `rdev`. */
export function rdevMajor(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}

/** glibc's minor(3) of a stat `rdev`. */
export function rdevMinor(rdev: number): number {
  return (rdev & 0xff) | Number((BigInt(rdev) >> 12n) & ~0xffn);
}

/** A device entry's numbers. node-tar reads them only for POSIX ustar magic; GNU tar ("ustar  ") has them too. */
export function deviceNumbers(b: Buffer): { devmaj: number; devmin: number } {
  if (b[257] !== 0x75 || b.toString('latin1', 257, 262) !== 'ustar') return { devmaj: 0, devmin: 0 };
  return { devmaj: devNumber(b, 329), devmin: devNumber(b, 337) };
}

function decodeWithNodeTar(block: Buffer): DecodedHeader {
  const h = new Header(block, 0);
  if (!h.cksumValid) throw invalid('header checksum mismatch');
  const out: DecodedHeader = {
    typeKey: h.typeKey as string,
    path: h.path ?? '',
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.size,
    mtime: h.mtime ? h.mtime.getTime() / 1000 : undefined,
    devmaj: 0,
    devmin: 0,
  };
  Object.assign(out, deviceNumbers(block));
  return out;
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
