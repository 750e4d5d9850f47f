import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../../oci/digest.js';
import { runtimeStubs } from './runtime-stubs.js';
import { readXattrs, type XattrMap } from './special-files.js';
import { BLOCK, encodeEntryHeader, padding, rdevMajor, rdevMinor, type TarEntry } from './tar-format.js';
import type { LayerTarOptions, LayerTarResult } from './types.js';

const CHUNK = 1 << 20;

/** Writes the OCI layer tar of a diff dir to `out` (which it ends); returns the diffID. */
export async function writeLayerTar(
  diffDir: string,
  out: Writable,
  opts: LayerTarOptions = {},
): Promise<LayerTarResult> {
  const { stream, result } = layerTarStream(diffDir, opts);
  await pipeline(stream, out);
  return result();
}

/**
 * The layer tar of a diff dir as a stream: entries depth-first in sorted name order, overlay
 * whiteouts (char 0/0) as `.wh.<name>`, opaque dirs as `<dir>/.wh..wh..opq`, hardlinks as links to
 * the first path, security.capability as PAX SCHILY.xattr.*, sockets skipped, mtimes clamped to SOURCE_DATE_EPOCH.
 * `result()` is valid once the stream has ended.
 */
export function layerTarStream(
  diffDir: string,
  opts: LayerTarOptions = {},
): { stream: Readable; result: () => LayerTarResult } {
  const hash = createHash('sha256');
  let size = 0;
  const counter = { entries: 0 };
  const hasher = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const gen = Readable.from(generateTar(diffDir, opts, counter), { objectMode: false });
  gen.on('error', (e) => hasher.destroy(e));
  const stream = gen.pipe(hasher);
  let digest: Digest | undefined;
  return {
    stream,
    result: () => {
      digest ??= `sha256:${hash.digest('hex')}`;
      return { diffId: digest, size, entries: counter.entries };
    },
  };
}

class Batch {
  buf = Buffer.allocUnsafe(CHUNK);
  used = 0;
  ready: Buffer[] = [];

  put(data: Buffer): void {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, CHUNK - this.used);
      data.copy(this.buf, this.used, off, off + n);
      this.used += n;
      off += n;
      if (this.used === CHUNK) this.cut();
    }
  }

  /**
   * Reads `size` bytes of a file straight into the batch (zero-padded if the file shrank), handing
   * over each full chunk as it is cut: the stream's backpressure then paces the reads, so a file
   * is never held whole in memory (a 3 GB COPY had grown the process by 3 GB).
   */
  *putFile(path: Buffer | string, size: number): Generator<Buffer> {
    const fd = openSync(path, 'r');
    try {
      let left = size;
      while (left > 0) {
        const want = Math.min(left, CHUNK - this.used);
        const n = readSync(fd, this.buf, this.used, want, null);
        if (n === 0) {
          this.buf.fill(0, this.used, this.used + want);
          this.used += want;
          left -= want;
        } else {
          this.used += n;
          left -= n;
        }
        if (this.used === CHUNK) {
          this.cut();
          yield* this.take();
        }
      }
    } finally {
      closeSync(fd);
    }
    this.zeros(padding(size));
  }

  *take(): Generator<Buffer> {
    while (this.ready.length > 0) yield this.ready.shift() as Buffer;
  }

  zeros(n: number): void {
    while (n > 0) {
      const k = Math.min(n, CHUNK - this.used);
      this.buf.fill(0, this.used, this.used + k);
      this.used += k;
      n -= k;
      if (this.used === CHUNK) this.cut();
    }
  }

  cut(): void {
    if (this.used === 0) return;
    this.ready.push(this.buf.subarray(0, this.used));
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.used = 0;
  }
}

interface WalkState {
  root: string;
  rootBytes: Buffer;
  /** the root as given when it is all ASCII (same bytes either way), else its bytes */
  rootPath: Buffer | string;
  opts: LayerTarOptions;
  xattrs: XattrMap;
  links: Map<string, string>;
  skip: Set<string>;
  epoch?: number;
  counter: { entries: number };
}

/** One entry of the walk: its path (latin1 byte string), its name and its lstat. */
interface WalkEntry {
  rel: string;
  name: string;
  stats: Stats;
}

/**
 * Entries read ahead while getfattr runs (it walks the same tree in its own process, on another core):
 * metadata only, bounded, so a huge layer does not buffer its listing.
 */
const READ_AHEAD = 50_000;

async function* generateTar(
  root: string,
  opts: LayerTarOptions,
  counter: { entries: number },
): AsyncGenerator<Buffer> {
  const st: WalkState = {
    root,
    rootBytes: Buffer.from(root),
    rootPath: NON_ASCII.test(root) ? Buffer.from(root) : root,
    opts,
    xattrs: new Map(),
    links: new Map(),
    skip: opts.lowerDirs ? runtimeStubs(root, opts.lowerDirs) : new Set(),
    counter,
  };
  if (opts.sourceDateEpoch !== undefined) st.epoch = opts.sourceDateEpoch;
  const walk = walkDir(st, '');
  const ahead = await readAheadWhile(walk, readXattrs(root), st);
  const batch = new Batch();
  for (const list of [ahead, walk]) {
    for (const e of list) {
      const content = emitEntry(st, batch, e);
      yield* batch.take();
      if (content) yield* batch.putFile(content, e.stats.size);
    }
  }
  batch.zeros(BLOCK * 2);
  batch.cut();
  yield* batch.take();
}

/**
 * Walks ahead (lstat only, no output: xattrs go in the headers) until the xattrs are read, then
 * sets them on `st`; returns the entries walked so far, in order.
 */
async function readAheadWhile(walk: Iterator<WalkEntry>, reading: Promise<XattrMap>, st: WalkState) {
  let done = false;
  const settled = reading.finally(() => {
    done = true;
  });
  // A walk that throws first must not leave a getfattr failure unhandled.
  settled.catch(() => undefined);
  const ahead: WalkEntry[] = [];
  while (!done && ahead.length < READ_AHEAD) {
    const r = walk.next();
    if (r.done) break;
    ahead.push(r.value);
    // Let the child's output and exit be seen now and then.
    if (ahead.length % 256 === 0) await new Promise((res) => setImmediate(res));
  }
  st.xattrs = await settled;
  return ahead;
}

/**
 * Depth-first, sorted: a directory's children come right after it, before its next sibling. A dir
 * is listed when the consumer asks for the entry after it.
 */
function* walkDir(st: WalkState, rel: string): Generator<WalkEntry> {
  // Names as 'latin1' strings (one char per byte): any byte sequence survives, UTF-8 or not, and
  // sorting compares bytes, as Go's archive/tar users (containerd, BuildKit) do.
  const names = readdirSync(fsPath(st, rel), { encoding: 'buffer' }).map((n) => n.toString('latin1'));
  for (const name of names.sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (st.skip.has(r)) continue;
    const stats = lstatSync(fsPath(st, r));
    yield { rel: r, name, stats };
    if (stats.isDirectory()) yield* walkDir(st, r);
  }
}

/** The on-disk path of `rel` (a latin1 byte string): a string when all ASCII (cheaper), else bytes. */
function fsPath(st: WalkState, rel: string): Buffer | string {
  if (!rel) return st.rootPath;
  return NON_ASCII.test(rel) || typeof st.rootPath !== 'string'
    ? Buffer.concat([st.rootBytes, Buffer.from(`/${rel}`, 'latin1')])
    : `${st.rootPath}/${rel}`;
}

const NON_ASCII = /[^ -~\t\n\r\v\f]/;

/**
 * Only `security.capability`: BuildKit's differ (containerd's changeWriter) and moby's archive write
 * no other xattr into a layer, so user.* attributes, SELinux labels and ACLs a RUN or an ADDed
 * archive left on a file are not layer content (overlay's own attributes never were).
 */
function xattrsOf(st: WalkState, rel: string): [string, Buffer][] {
  return (st.xattrs.get(rel) ?? []).filter(([n]) => n === 'security.capability');
}

function isOpaque(st: WalkState, rel: string): boolean {
  const key = st.opts.userxattr ? 'user.overlay.opaque' : 'trusted.overlay.opaque';
  return (st.xattrs.get(rel) ?? []).some(([n, v]) => n === key && v.toString() === 'y');
}

/** Emits one entry's header (and content) into the batch. */
/** Writes the entry's header(s); for a regular file's first link, returns the path to read its content from. */
function emitEntry(
  st: WalkState,
  batch: Batch,
  { rel, name, stats: s }: WalkEntry,
): Buffer | string | undefined {
  const mtime = clamp(Math.floor(s.mtimeMs / 1000), st.epoch);
  const base = { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, size: 0, mtime };
  const overlay = (st.opts.source ?? 'overlay') === 'overlay';
  const add = (e: TarEntry) => {
    batch.put(encodeEntryHeader(e));
    st.counter.entries++;
  };
  if (s.isSocket()) return;
  if (overlay && s.isCharacterDevice() && s.rdev === 0) {
    const dir = rel.slice(0, rel.length - name.length);
    add({ ...base, mode: 0, path: `${dir}.wh.${name}`, type: 'File' });
    return;
  }
  const xattrs = xattrsOf(st, rel);
  const withX = xattrs.length > 0 ? { xattrs } : {};
  if (s.isDirectory()) {
    add({ ...base, ...withX, path: `${rel}/`, type: 'Directory' });
    if (overlay && isOpaque(st, rel)) add({ ...base, mode: 0, path: `${rel}/.wh..wh..opq`, type: 'File' });
    return;
  }
  // Any non-directory with more links is a hard link after its first path, symlinks, FIFOs and
  // devices too (moby's archive addTarFile, which BuildKit's differ uses).
  if (s.nlink > 1) {
    const key = `${s.dev}:${s.ino}`;
    const first = st.links.get(key);
    if (first !== undefined) {
      add({ ...base, ...withX, path: rel, type: 'Link', linkpath: first });
      return;
    }
    st.links.set(key, rel);
  }
  if (s.isSymbolicLink()) {
    add({
      ...base,
      ...withX,
      path: rel,
      type: 'SymbolicLink',
      linkpath: readlinkSync(fsPath(st, rel), { encoding: 'buffer' }).toString('latin1'),
    });
  } else if (s.isFile()) {
    add({ ...base, ...withX, path: rel, type: 'File', size: s.size });
    return fsPath(st, rel);
  } else if (s.isFIFO()) {
    add({ ...base, ...withX, path: rel, type: 'FIFO' });
  } else if (s.isCharacterDevice() || s.isBlockDevice()) {
    add({
      ...base,
      ...withX,
      path: rel,
      type: s.isCharacterDevice() ? 'CharacterDevice' : 'BlockDevice',
      devmajor: rdevMajor(s.rdev),
      devminor: rdevMinor(s.rdev),
    });
  }
  return;
}

function clamp(t: number, epoch: number | undefined): number {
  return epoch !== undefined && t > epoch ? epoch : t;
}
