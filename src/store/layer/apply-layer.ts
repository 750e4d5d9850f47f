import { createHash, randomBytes } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Digest, isDigest } from '../../oci/digest.js';
import { StoreError } from '../errors.js';
import type { Store } from '../types.js';
import { decompressStream, detectCompression } from './compression.js';
import { createExtractor } from './extract.js';
import { extractInWorker, hasExtractWorker, takeWorker } from './extract-worker.js';
import { compressionOfMediaType } from './media-types.js';
import type { AppliedLayer, ApplyLayerOptions, GrowingBlob, LayerSource } from './types.js';

/**
 * Applies a layer (a blob in the store, or a stream) on top of committed snapshot `parent`: prepares
 * a snapshot, extracts into its diff dir (overlay: whiteouts as char 0/0, opaque xattr; copy
 * snapshotter: onto the full tree), verifies the digest and diffID at EOF, and commits it under its
 * chain ID (`sha256:` of parent chain + diffID, as containerd names them). Nothing is committed when
 * anything fails. Applying a layer that already exists returns the existing snapshot.
 */
export async function applyLayer(
  store: Store,
  source: LayerSource,
  parent?: string,
  opts: ApplyLayerOptions & OffThread = {},
): Promise<AppliedLayer> {
  const expectedDigest = opts.expectedDigest ?? (isDigest(source) ? (source as Digest) : undefined);
  const key = `apply-${process.pid}-${randomBytes(6).toString('hex')}`;
  // Taken before the snapshot is prepared, so a fresh worker boots meanwhile.
  const w = opts.offThread && isDigest(source) && hasExtractWorker() ? takeWorker() : undefined;
  try {
    await store.snapshots.prepare(key, parent);
  } catch (e) {
    void w?.terminate();
    throw e;
  }
  try {
    const dir = store.snapshots.diffDir(key);
    const mode = store.snapshots.kind === 'overlay' ? 'overlay' : 'flat';
    const x = { mode, ...(opts.mediaType ? { mediaType: opts.mediaType } : {}) } as const;
    let got: Extracted;
    if (w) {
      got = await extractInWorker(
        w,
        { path: store.content.blobPath(source as Digest), dir, opts: x },
        opts.ready,
        opts.growing,
      );
    } else {
      await opts.ready;
      const input = isDigest(source) ? await store.content.read(source as Digest) : (source as Readable);
      got = await extractStream(input, dir, x);
    }
    const { digest, diffId, size: rawSize } = got;
    if (expectedDigest && digest !== expectedDigest) {
      throw new StoreError(
        'DIGEST_MISMATCH',
        `layer digest mismatch: expected ${expectedDigest}, got ${digest}`,
      );
    }
    if (opts.expectedDiffId && diffId !== opts.expectedDiffId) {
      throw new StoreError(
        'DIGEST_MISMATCH',
        `layer diffID mismatch: expected ${opts.expectedDiffId}, got ${diffId}`,
      );
    }
    const parentChain = parent
      ? ((await store.snapshots.stat(parent)).labels?.['tsbuild.chainid'] ?? parent)
      : undefined;
    const chainId = parentChain
      ? `sha256:${createHash('sha256').update(`${parentChain} ${diffId}`).digest('hex')}`
      : diffId;
    const name = opts.name ?? chainId;
    const existing = await store.snapshots.tryStat(name);
    if (existing?.kind === 'committed') {
      await store.snapshots.remove(key);
      return { snapshot: name, diffId, digest, size: rawSize };
    }
    try {
      await store.snapshots.commit(name, key, {
        labels: { 'tsbuild.chainid': chainId, 'tsbuild.diffid': diffId },
      });
    } catch (e) {
      // Another build applied the same layer meanwhile: same chain ID = same content; use theirs.
      if ((e as { code?: string }).code !== 'SNAPSHOT_EXISTS') throw e;
      await store.snapshots.remove(key);
    }
    return { snapshot: name, diffId, digest, size: rawSize };
  } catch (e) {
    await store.snapshots.remove(key).catch(() => {});
    throw e;
  }
}

/** Extraction in a worker thread, for a layer unpacked beside other main-thread work. */
interface OffThread {
  offThread?: boolean;
  /**
   * The blob is still downloading: resolves once it is in the store. The snapshot (and the worker)
   * are made meanwhile, so the worker's start-up overlaps the download.
   */
  ready?: Promise<void>;
  /** The download's bytes as they land: the worker unpacks them as they come, not after `ready`. */
  growing?: GrowingBlob;
}

export interface StreamOptions {
  mode: 'overlay' | 'flat';
  mediaType?: string;
}
export interface Extracted {
  digest: Digest;
  diffId: Digest;
  size: number;
}

/**
 * Decompresses and extracts a layer into `dir`, hashing what it reads (digest) and the tar (diffID).
 * The extractor is written to from the pipeline's last stage: no async iteration per chunk.
 */
export async function extractStream(input: Readable, dir: string, opts: StreamOptions): Promise<Extracted> {
  const raw = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _e, cb) {
      raw.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const head = await peek(input);
  const compression =
    (opts.mediaType && compressionOfMediaType(opts.mediaType)) || detectCompression(head.first);
  // A snapshot is a rootfs: device nodes are content (as root), whichever snapshotter.
  const devices = process.getuid?.() === 0 ? 'create' : 'skip';
  const x = createExtractor(dir, { mode: opts.mode, devices });
  // Each chunk is extracted on a later turn, not inside the write: zlib pushes its output and only
  // then starts inflating the next input on the thread pool, so a synchronous extract here would
  // leave the two taking turns. Deferred, the pool inflates while this thread writes files.
  const sink = new Writable({
    highWaterMark: 4 << 20,
    write(chunk: Buffer, _e, cb) {
      setImmediate(() => {
        try {
          x.write(chunk);
          cb();
        } catch (e) {
          cb(e as Error);
        }
      });
    },
  });
  try {
    await pipeline(head.stream, hasher, decompressStream(compression), sink);
  } catch (e) {
    x.abort();
    if (e instanceof StoreError) throw e;
    throw new StoreError('LAYER_INVALID', `extracting layer failed: ${(e as Error).message}`, { cause: e });
  }
  const res = await x.finish();
  return { digest: `sha256:${raw.digest('hex')}` as Digest, diffId: res.diffId, size };
}

/** Reads the first chunk (to sniff the compression) and gives back a stream with it put back. */
async function peek(input: Readable): Promise<{ first: Buffer; stream: Readable }> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : (first.value as Buffer);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value as Buffer;
    }
  }
  return { first: head, stream: Readable.from(rest(), { objectMode: false }) };
}
