import { BLOCK, type DecodedHeader, decodeHeader, invalid, padding, parsePax } from './tar-format.js';

/** An entry as the extractor sees it: PAX / GNU long names already applied. */
export interface ReadEntry {
  name: string;
  type: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkpath: string;
  devmajor: number;
  devminor: number;
  xattrs: [string, Buffer][];
}

export interface TarSink {
  entry(e: ReadEntry): void;
  data(chunk: Buffer): void;
  endEntry(): void;
}

const META_LIMIT = 1 << 20;
const ID_LIMIT = 2 ** 32;

const TYPES: Record<string, ReadEntry['type']> = {
  '0': 'File',
  '': 'File',
  '7': 'File',
  '1': 'Link',
  '2': 'SymbolicLink',
  '3': 'CharacterDevice',
  '4': 'BlockDevice',
  '5': 'Directory',
  '6': 'FIFO',
};

/**
 * A push parser for (uncompressed) tar: ustar, PAX (x, g) and GNU long names (L, K). Calls the sink
 * synchronously. Bounds what it buffers (1 MiB of PAX/long-name data) and rejects values that do not
 * fit (sizes past 2^53, ids past 2^32, bad checksums). `end()` fails on a truncated archive.
 */
export class TarReader {
  readonly #sink: TarSink;
  #head = Buffer.alloc(BLOCK);
  #headUsed = 0;
  #state: 'header' | 'body' | 'meta' | 'pad' | 'done' = 'header';
  #left = 0;
  #pad = 0;
  #meta: Buffer[] = [];
  #metaKind = '';
  #pax = new Map<string, Buffer>();
  #global = new Map<string, Buffer>();
  #longName?: string;
  #longLink?: string;
  entries = 0;

  constructor(sink: TarSink) {
    this.#sink = sink;
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && this.#state !== 'done') {
      if (this.#state === 'header') {
        const n = Math.min(BLOCK - this.#headUsed, chunk.length - off);
        chunk.copy(this.#head, this.#headUsed, off, off + n);
        this.#headUsed += n;
        off += n;
        if (this.#headUsed === BLOCK) {
          this.#headUsed = 0;
          this.#onHeader(this.#head);
        }
      } else if (this.#state === 'body' || this.#state === 'meta') {
        const n = Math.min(this.#left, chunk.length - off);
        const part = chunk.subarray(off, off + n);
        if (this.#state === 'body') this.#sink.data(part);
        else this.#meta.push(Buffer.from(part));
        this.#left -= n;
        off += n;
        if (this.#left === 0) this.#endBody();
      } else {
        const n = Math.min(this.#pad, chunk.length - off);
        this.#pad -= n;
        off += n;
        if (this.#pad === 0) this.#state = 'header';
      }
    }
  }

  end(): void {
    // EOF right at a header boundary without the two zero blocks is accepted (as Docker does).
    if (this.#state === 'done' || (this.#state === 'header' && this.#headUsed === 0 && !this.#pending()))
      return;
    throw invalid('truncated archive (unexpected end of data)');
  }

  #pending(): boolean {
    return this.#pax.size > 0 || this.#longName !== undefined || this.#longLink !== undefined;
  }

  #onHeader(block: Buffer): void {
    const h = decodeHeader(block);
    if (!h) {
      this.#state = 'done';
      return;
    }
    const key = h.typeKey;
    const size = h.size ?? 0;
    if (!Number.isSafeInteger(size) || size < 0) throw invalid(`entry size out of range (${h.size})`);
    if (key === 'x' || key === 'g' || key === 'L' || key === 'K') {
      if (size > META_LIMIT) throw invalid(`${key} header of ${size} bytes exceeds ${META_LIMIT}`);
      this.#metaKind = key;
      this.#meta = [];
      this.#left = size;
      this.#pad = padding(size);
      this.#state = 'meta';
      if (size === 0) this.#endBody();
      return;
    }
    const type = TYPES[key];
    if (type === undefined) throw invalid(`unsupported entry type ${JSON.stringify(key)} (${h.path})`);
    // A PAX sparse file (GNU tar --sparse): no image tool writes one, and read as a plain entry it
    // would land as a GNUSparseFile.N dir of raw data; refused rather than unpacked wrong.
    if (this.#pax.size > 0 && [...this.#pax.keys()].some((k) => k.startsWith('GNU.sparse.')))
      throw invalid(`sparse file entries are not supported (${h.path})`);
    const e = this.#buildEntry(h, block, type, size);
    if (this.#pax.size > 0) this.#pax = new Map();
    this.#longName = undefined;
    this.#longLink = undefined;
    this.entries++;
    this.#sink.entry(e);
    const bodySize = type === 'File' ? e.size : size;
    this.#left = bodySize;
    this.#pad = padding(bodySize);
    this.#state = 'body';
    if (bodySize === 0) this.#endBody();
  }

  #buildEntry(h: DecodedHeader, block: Buffer, type: ReadEntry['type'], size: number): ReadEntry {
    // Most entries have no PAX records: no merged map to build for them.
    const ex =
      this.#global.size === 0
        ? this.#pax
        : this.#pax.size === 0
          ? this.#global
          : new Map([...this.#global, ...this.#pax]);
    const str = (k: string) => ex.get(k)?.toString('utf8');
    const num = (k: string, fallback: number | undefined, limit: number, min = 0): number => {
      const raw = str(k);
      const v = raw !== undefined ? Number(raw) : fallback;
      if (v === undefined || !Number.isFinite(v) || v < min || v > limit)
        throw invalid(`${k} out of range in ${h.path}`);
      return v;
    };
    const xattrs: [string, Buffer][] = [];
    for (const [k, v] of ex) if (k.startsWith('SCHILY.xattr.')) xattrs.push([k.slice(13), v]);
    // Before 1970 is a time too (Go's archive/tar writes it as a PAX record; BuildKit's layers have it).
    const mtime = num('mtime', h.mtime ?? 0, 2 ** 40, -(2 ** 40));
    return {
      // Names stay byte strings (latin1): any bytes, UTF-8 or not, reach the disk unchanged.
      name: ex.get('path')?.toString('latin1') ?? this.#longName ?? rawName(block),
      type,
      mode: num('mode', h.mode ?? 0, 0o7777777) & 0o7777,
      uid: num('uid', h.uid ?? 0, ID_LIMIT - 1),
      gid: num('gid', h.gid ?? 0, ID_LIMIT - 1),
      size: Math.floor(num('size', size, Number.MAX_SAFE_INTEGER)),
      mtime: Math.floor(mtime),
      linkpath: ex.get('linkpath')?.toString('latin1') ?? this.#longLink ?? field(block, 157, 100),
      devmajor: h.devmaj ?? 0,
      devminor: h.devmin ?? 0,
      xattrs,
    };
  }

  #endBody(): void {
    if (this.#state === 'meta') {
      const buf = Buffer.concat(this.#meta);
      this.#meta = [];
      if (this.#metaKind === 'x') this.#pax = parsePax(buf);
      else if (this.#metaKind === 'g') this.#global = new Map([...this.#global, ...parsePax(buf)]);
      else {
        const s = buf.toString('latin1').replace(/\0.*$/s, '');
        if (this.#metaKind === 'L') this.#longName = s;
        else this.#longLink = s;
      }
    } else {
      this.#sink.endEntry();
    }
    this.#state = this.#pad > 0 ? 'pad' : 'header';
  }
}

/** A NUL-terminated header field as a byte string. */
export function field(block: Buffer, off: number, len: number): string {
  const f = block.subarray(off, off + len);
  const nul = f.indexOf(0);
  return (nul < 0 ? f : f.subarray(0, nul)).toString('latin1');
}

/** ustar name, with the POSIX prefix field when present (not in GNU's "ustar  " headers). */
export function rawName(block: Buffer): string {
  const name = field(block, 0, 100);
  if (block.subarray(257, 263).toString('latin1') !== 'ustar\0') return name;
  // As node-tar: a NUL at 475 means xstar's 130-byte prefix (atime/ctime follow).
  const prefix = block[475] !== 0 ? field(block, 345, 155) : field(block, 345, 130);
  return prefix ? `${prefix}/${name}` : name;
}
