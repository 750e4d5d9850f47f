import { ftruncateSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { TsbuildError } from '../../errors.js';
import { decodeName } from '../../fs-names.js';
import { parsePaxRecords } from '../../store/index.js';

/** PAX records that name files: bytes that are not UTF-8 kept (fs-names.ts). */
const NAMES = new Set(['path', 'linkpath', 'GNU.sparse.name']);

// The byte-level pieces of ADD's archive reader (unpack.ts): exact reads, PAX records, file data.

/** Pulls exact byte counts out of a stream. */
export class Blocks {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  private done = false;
  constructor(s: Readable) {
    this.it = s[Symbol.asyncIterator]();
  }
  async read(n: number): Promise<Buffer | undefined> {
    if (this.buf.length < n && !this.done) {
      // one concat per read, not one per chunk (that was quadratic in the read's size)
      const parts = [this.buf];
      let have = this.buf.length;
      while (have < n && !this.done) {
        const r = await this.it.next();
        if (r.done) this.done = true;
        else {
          parts.push(r.value);
          have += r.value.length;
        }
      }
      this.buf = Buffer.concat(parts, have);
    }
    if (this.buf.length < n) return undefined;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Skips the data of an entry whose content is not kept, a MiB at a time whatever its size says. */
  async skip(n: number): Promise<void> {
    for (let left = n; left > 0; left -= 1 << 20) await this.read(Math.min(left, 1 << 20));
  }

  /** Reads what is left and drops it: a stream's own end-of-data checks (a decompressor's exit) still run. */
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (!this.done) if ((await this.it.next()).done) this.done = true;
  }

  /** Stops reading: the stream is destroyed. */
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/**
 * PAX extended-header records (`len key=value\n`; the lengths count bytes, so a multi-byte name
 * must not be decoded first). Values are UTF-8 text, except xattr values (`SCHILY.xattr.*`), which
 * are bytes and stay so as latin1 strings. A malformed record is an ADD_BAD_TAR, as Go's archive/tar
 * fails on it.
 */
export function parsePax(b: Buffer, archive: string): Record<string, string> {
  let records: Map<string, Buffer>;
  try {
    records = parsePaxRecords(b);
  } catch (e) {
    const why = (e as Error).message.replace(/^invalid layer tar: /, '');
    throw new TsbuildError('ADD_BAD_TAR', `invalid tar in ${archive}: ${why}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of records)
    out[k] = k.startsWith(XATTR) ? v.toString('latin1') : NAMES.has(k) ? decodeName(v) : v.toString('utf8');
  return out;
}

export const XATTR = 'SCHILY.xattr.';

/** A PAX-format sparse file (GNU tar `--sparse --format=posix`): its real size and where its map is. */
export interface Sparse {
  realSize: number;
  /** 0.1: the map is in the header; 1.0: at the start of the entry's data. */
  map?: number[];
}

/**
 * The sparse description of an entry's PAX records, as Go's archive/tar reads it (so BuildKit's ADD
 * expands these files): versions 0.1 (`GNU.sparse.map`) and 1.0 (map in the data). Version 0.0
 * repeats its keys, which a record map cannot hold: refused, as is anything malformed.
 */
export function sparseOf(pax: Record<string, string>, archive: string): Sparse | undefined {
  const major = pax['GNU.sparse.major'];
  const minor = pax['GNU.sparse.minor'];
  const realSize = Number(pax['GNU.sparse.realsize'] ?? pax['GNU.sparse.size']);
  if (major === '1' && minor === '0' && Number.isSafeInteger(realSize)) return { realSize };
  const map = pax['GNU.sparse.map']?.split(',').map(Number);
  if (
    map &&
    major !== '1' &&
    map.length % 2 === 0 &&
    map.every(Number.isSafeInteger) &&
    Number.isSafeInteger(realSize)
  )
    return { realSize, map };
  if (Object.keys(pax).some((k) => k.startsWith('GNU.sparse.')))
    throw new TsbuildError(
      'ADD_BAD_TAR',
      `invalid tar in ${archive}: unsupported or malformed GNU sparse file`,
    );
  return undefined;
}

const bad = (archive: string, what: string) =>
  new TsbuildError('ADD_BAD_TAR', `invalid tar in ${archive}: ${what}`);

/** Copies `size` bytes of entry data into `fd` at the current offset, a MiB at a time. */
export async function writeData(r: Blocks, fd: number, size: number, archive: string): Promise<void> {
  for (let left = size; left > 0; ) {
    const n = Math.min(left, 1 << 20);
    const chunk = await r.read(n);
    if (!chunk) throw bad(archive, 'truncated');
    writeSync(fd, chunk);
    left -= n;
  }
}

/**
 * Expands a sparse entry's `size` bytes of data into `fd`: the fragments at their offsets, holes
 * left as holes, the file cut to its real size.
 */
export async function writeSparse(
  r: Blocks,
  fd: number,
  size: number,
  s: Sparse,
  archive: string,
): Promise<void> {
  let used = 0;
  let map = s.map;
  if (!map) {
    // 1.0: decimal numbers, one per line (count, then offset/length pairs), padded to a block.
    let text = '';
    const numbers: number[] = [];
    while (numbers.length === 0 || numbers.length < 1 + 2 * numbers[0]!) {
      if (used + 512 > size || used > 1 << 20) throw bad(archive, 'sparse map too long');
      const blk = await r.read(512);
      if (!blk) throw bad(archive, 'truncated');
      used += 512;
      text += blk.toString('latin1');
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const l of lines)
        if (numbers.length === 0 || numbers.length < 1 + 2 * numbers[0]!) numbers.push(Number(l));
      if (numbers.some((n) => !Number.isSafeInteger(n) || n < 0)) throw bad(archive, 'malformed sparse map');
    }
    map = numbers.slice(1);
  }
  let total = 0;
  for (let i = 0; i < map.length; i += 2) {
    const [off, len] = [map[i]!, map[i + 1]!];
    if (off < 0 || len < 0 || off + len > s.realSize) throw bad(archive, 'sparse fragment beyond the file');
    total += len;
    for (let done = 0; done < len; ) {
      const n = Math.min(len - done, 1 << 20);
      const chunk = await r.read(n);
      if (!chunk) throw bad(archive, 'truncated');
      writeSync(fd, chunk, 0, n, off + done);
      done += n;
    }
  }
  if (used + total !== size) throw bad(archive, 'sparse data does not match its size');
  ftruncateSync(fd, s.realSize);
}
