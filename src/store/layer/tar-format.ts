import { Header } from 'tar';
import { StoreError } from '../errors.js';

/** One tar entry as tsbuild writes it (pure data; the writer turns a diff dir into these). */
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

/**
 * The header block(s) of an entry: a PAX extended header first when a field does not fit ustar
 * (long or non-ASCII names, big ids or sizes) or there are xattrs (SCHILY.xattr.*, like GNU tar
 * and Go's archive/tar), then the ustar header. uname/gname empty, no atime/ctime: deterministic.
 */
export function encodeEntryHeader(e: TarEntry): Buffer {
  const h = new Header({
    path: e.path,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    mtime: new Date(e.mtime * 1000),
    type: e.type,
    linkpath: e.linkpath ?? '',
    uname: '',
    gname: '',
    devmaj: e.devmajor ?? 0,
    devmin: e.devminor ?? 0,
  });
  const block = Buffer.alloc(BLOCK);
  const needPax = h.encode(block, 0);
  const records: Buffer[] = [];
  if (needPax) {
    records.push(paxRecord('path', Buffer.from(e.path)));
    if (e.linkpath) records.push(paxRecord('linkpath', Buffer.from(e.linkpath)));
    if (e.size > 0o77777777777) records.push(paxRecord('size', Buffer.from(String(e.size))));
    if (e.uid > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(e.uid))));
    if (e.gid > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(e.gid))));
  }
  for (const [name, value] of e.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${name}`, value));
  if (records.length === 0) return block;
  const data = Buffer.concat(records);
  const base = e.path.replace(/\/$/, '').split('/').pop() ?? '';
  const ph = new Header({
    path: `PaxHeaders.0/${base}`.slice(0, 99),
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: new Date(e.mtime * 1000),
    type: 'ExtendedHeader',
    uname: '',
    gname: '',
  });
  const pblock = Buffer.alloc(BLOCK);
  ph.encode(pblock, 0);
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
    h.devmaj = octal(block, 329, 8) ?? 0;
    h.devmin = octal(block, 337, 8) ?? 0;
  }
  return h;
}

function octal(buf: Buffer, off: number, size: number): number | undefined {
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
