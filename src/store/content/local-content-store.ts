import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobRef } from '../../oci/descriptor.js';
import { type Digest, digestFromHex, digestHex, isDigest } from '../../oci/digest.js';
import { isEnoent, isTempName, pidAlive } from '../atomic.js';
import { StoreError } from '../errors.js';
import { chain } from '../layer/compression.js';
import type {
  BlobInfo,
  ContentStore,
  ContentWriter,
  IngestObserver,
  IngestStatus,
  WriterOptions,
} from '../types.js';
import { LocalContentWriter } from './content-writer.js';
import { acquireIngestLock, readLock, releaseIngest } from './ingest-lock.js';

const NO_LOCK_GRACE_MS = 10_000;

/** Content store on a local filesystem: `blobs/sha256/<hex>`, writes through `ingest/<sha256(ref)>/`. */
export class LocalContentStore implements ContentStore {
  readonly root: string;
  readonly #blobs: string;
  readonly #ingest: string;

  constructor(root: string) {
    this.root = root;
    this.#blobs = join(root, 'blobs', 'sha256');
    this.#ingest = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.#blobs, { recursive: true });
    await fsp.mkdir(this.#ingest, { recursive: true });
  }

  blobPath(digest: Digest): string {
    return join(this.#blobs, digestHex(digest));
  }

  async info(digest: Digest): Promise<BlobInfo> {
    try {
      const st = await fsp.stat(this.blobPath(digest));
      return { digest, size: st.size, createdAt: st.mtimeMs };
    } catch (e) {
      if (isEnoent(e)) throw notFound(digest);
      throw e;
    }
  }

  async has(digest: Digest): Promise<boolean> {
    return fsp.stat(this.blobPath(digest)).then(
      () => true,
      () => false,
    );
  }

  async read(
    digest: Digest,
    opts: { start?: number; end?: number; verify?: boolean } = {},
  ): Promise<Readable> {
    // Open first: a concurrent delete after this point cannot break the stream.
    const fh = await fsp.open(this.blobPath(digest), 'r').catch((e) => {
      throw isEnoent(e) ? notFound(digest) : e;
    });
    const raw = createReadStream('', { fd: fh, start: opts.start, end: opts.end, highWaterMark: 1 << 20 });
    return opts.verify && opts.start === undefined && opts.end === undefined ? verified(raw, digest) : raw;
  }

  async readAt(digest: Digest, offset: number, length: number): Promise<Buffer> {
    const fh = await fsp.open(this.blobPath(digest), 'r').catch((e) => {
      throw isEnoent(e) ? notFound(digest) : e;
    });
    try {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    } finally {
      await fh.close();
    }
  }

  async writer(opts: WriterOptions): Promise<ContentWriter> {
    if (opts.expected?.digest !== undefined && !isDigest(opts.expected.digest))
      digestHex(opts.expected.digest);
    const dir = this.ingestDir(opts.ref);
    await acquireIngestLock(dir, opts.ref);
    try {
      await fsp.writeFile(join(dir, 'ref'), opts.ref);
      const data = join(dir, 'data');
      const fh = await fsp.open(data, 'w', 0o644);
      return new LocalContentWriter(
        opts.ref,
        fh,
        { dir, data, blobsDir: this.#blobs },
        opts.expected,
        opts.onWritten,
        opts.hashedBy,
      );
    } catch (e) {
      await releaseIngest(dir);
      throw e;
    }
  }

  async ingest(
    source: Readable | Uint8Array | string,
    expected: Partial<BlobRef> = {},
    observer: IngestObserver = {},
  ): Promise<BlobRef> {
    if (expected.digest !== undefined && (await this.has(expected.digest))) {
      const info = await this.info(expected.digest);
      if (source instanceof Readable) source.destroy();
      if (expected.size !== undefined && expected.size !== info.size) {
        throw new StoreError(
          'SIZE_MISMATCH',
          `${expected.digest} is ${info.size} bytes, expected ${expected.size}`,
        );
      }
      return { digest: expected.digest, size: info.size };
    }
    // A private ref: concurrent ingests of the same content each write their own file and the
    // first rename wins; the others find the blob there (success).
    const ref = `ingest-${process.pid}-${randomBytes(8).toString('hex')}`;
    const onWritten = observer.written?.bind(observer);
    // The source may fail while the writer opens (a verified read of a damaged blob): held here,
    // not an unhandled 'error' event, and thrown below.
    let early: unknown;
    const hold = (e: unknown) => {
      early ??= e;
    };
    if (source instanceof Readable) source.on('error', hold);
    const w = await this.writer({ ref, expected, ...(onWritten ? { onWritten } : {}) });
    observer.started?.(join(this.ingestDir(ref), 'data'));
    try {
      const input = source instanceof Readable ? source : Readable.from([Buffer.from(source)]);
      if (early !== undefined) throw early;
      await pipeline(input, w);
      if (early !== undefined) throw early;
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.commit();
  }

  async walk(fn: (info: BlobInfo) => void | Promise<void>): Promise<void> {
    let names: string[];
    try {
      names = await fsp.readdir(this.#blobs);
    } catch (e) {
      if (isEnoent(e)) return;
      throw e;
    }
    for (const name of names.sort()) {
      if (isTempName(name) || !/^[a-f0-9]{64}$/.test(name)) continue;
      const st = await fsp.stat(join(this.#blobs, name)).catch(() => undefined);
      if (st?.isFile()) await fn({ digest: digestFromHex(name), size: st.size, createdAt: st.mtimeMs });
    }
  }

  async delete(digest: Digest): Promise<boolean> {
    try {
      await fsp.unlink(this.blobPath(digest));
      return true;
    } catch (e) {
      if (isEnoent(e)) return false;
      throw e;
    }
  }

  async status(): Promise<IngestStatus[]> {
    const out: IngestStatus[] = [];
    for (const name of await fsp.readdir(this.#ingest).catch(() => [] as string[])) {
      if (name.startsWith('.')) continue;
      const dir = join(this.#ingest, name);
      const lock = await readLock(dir);
      const ref = await fsp.readFile(join(dir, 'ref'), 'utf8').catch(() => name);
      const st = await fsp.stat(join(dir, 'data')).catch(() => undefined);
      const ageMs = Date.now() - (st?.mtimeMs ?? Date.now() - (lock?.ageMs ?? 0));
      out.push({ ref, offset: st?.size ?? 0, ageMs, locked: lock?.alive ?? false });
    }
    return out;
  }

  async cleanIngests(opts: { olderThanMs?: number; force?: boolean } = {}): Promise<number> {
    let n = 0;
    for (const name of await fsp.readdir(this.#ingest).catch(() => [] as string[])) {
      const dir = join(this.#ingest, name);
      if (name.startsWith('.')) {
        // A lock temp file of a writer killed between writing and linking it.
        const pid = Number(name.split('-')[1]);
        if (!pidAlive(pid)) await fsp.rm(dir, { force: true });
        continue;
      }
      const lock = await readLock(dir);
      if (lock?.alive) continue;
      const st = await fsp.stat(dir).catch(() => undefined);
      if (!st) continue;
      const age = Date.now() - st.mtimeMs;
      // No lock at all: maybe a writer between mkdir and taking its lock. Only old ones are garbage.
      if (!lock && !opts.force && age < NO_LOCK_GRACE_MS) continue;
      if (opts.olderThanMs !== undefined && age < opts.olderThanMs) continue;
      await fsp.rm(dir, { recursive: true, force: true });
      n++;
    }
    return n;
  }

  /**
   * Removes the ingests of layers whose writer is dead (a kill -9 during a build's layer walk): a
   * layer ingest's ref carries its writer's pid (`layer-<snapshot>-<codec>-<pid>-<ms>`), so no other
   * process can ever take it over, and removing it races with nobody. Other ingests (pulls, whose
   * ref any process may take over) stay for `prune`, which goes through their locks' owners.
   */
  async sweepDeadLayerIngests(): Promise<number> {
    let n = 0;
    for (const name of await fsp.readdir(this.#ingest).catch(() => [] as string[])) {
      if (name.startsWith('.')) continue;
      const dir = join(this.#ingest, name);
      const lock = await readLock(dir).catch(() => undefined);
      const info = lock?.info;
      if (!info || lock.alive || !info.ref.startsWith('layer-') || !info.ref.includes(`-${info.pid}-`))
        continue;
      await fsp.rm(dir, { recursive: true, force: true });
      n++;
    }
    return n;
  }

  ingestDir(ref: string): string {
    return join(this.#ingest, createHash('sha256').update(ref).digest('hex').slice(0, 32));
  }
}

function notFound(digest: Digest): StoreError {
  return new StoreError('BLOB_NOT_FOUND', `blob ${digest} not found in the content store`, {
    hint: 'pull the base image again (tsbuild pull) or rebuild the image; fsck --repair removes damaged blobs',
  });
}

/**
 * The blob's bytes, hashed on the way: the stream fails at its end, so its reader never completes,
 * when the file on disk no longer hashes to its name. Commits are
 * verified, so only damage after the commit (disk, hand edits) gets here; what an export writes from
 * such a blob would be an image that no client can load.
 */
function verified(src: Readable, digest: Digest): Readable {
  const hash = createHash('sha256');
  const out = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const got = digestFromHex(hash.digest('hex'));
      if (got === digest) return done();
      done(
        new StoreError('STORE_CORRUPT', `blob ${digest} is damaged: its content hashes to ${got}`, {
          hint: 'run `tsbuild fsck --repair`; the next build or pull writes it again',
        }),
      );
    },
  });
  // A reader that stops early (destroys `out`) must not leave the file open behind it.
  out.once('close', () => src.destroy());
  return chain(src, out);
}
