import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Worker } from 'node:worker_threads';
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
  const key = applyKey();
  // Taken before the snapshot is prepared, so a fresh worker boots meanwhile.
  const w = workerFor(source, opts);
  try {
    await store.snapshots.prepare(key, parent);
  } catch (e) {
    void w?.terminate();
    throw e;
  }
  try {
    const mode = store.snapshots.kind === 'overlay' ? 'overlay' : 'flat';
    const got = await extractVerified(store, source, store.snapshots.diffDir(key), mode, opts, w);
    return await commitApplied(store, key, parent, got, opts.name);
  } catch (e) {
    await store.snapshots.remove(key).catch(() => {});
    throw e;
  }
}

/** A layer unpacked into a dir of its own, verified, not yet a snapshot (see `unpackLayer`). */
export interface UnpackedLayer extends Extracted {
  dir: string;
}

/**
 * The first half of `applyLayer` without a parent: extracts a stored (or downloading) blob into a
 * temp dir of the store and verifies it. An overlay diff does not depend on what is below it, so an
 * image's layers can unpack at once and be committed in order (`commitUnpacked`) as each parent
 * is. Overlay snapshotter only. On failure nothing is left; on success the dir is the caller's.
 */
export async function unpackLayer(
  store: Store,
  source: Digest,
  opts: ApplyLayerOptions & OffThread = {},
): Promise<UnpackedLayer> {
  const w = workerFor(source, opts);
  let dir: string;
  try {
    dir = await store.tempDir('unpack');
  } catch (e) {
    void w?.terminate();
    throw e;
  }
  try {
    return { dir, ...(await extractVerified(store, source, dir, 'overlay', opts, w)) };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The second half: `u` becomes a snapshot on `parent` (moved in), committed under its chain ID. */
export async function commitUnpacked(
  store: Store,
  u: UnpackedLayer,
  parent?: string,
  name?: string,
): Promise<AppliedLayer> {
  const key = applyKey();
  try {
    await store.snapshots.prepare(key, parent, { contents: u.dir });
  } catch (e) {
    await rm(u.dir, { recursive: true, force: true });
    throw e;
  }
  try {
    return await commitApplied(store, key, parent, u, name);
  } catch (e) {
    await store.snapshots.remove(key).catch(() => {});
    throw e;
  }
}

/** containerd's chain ID: the diffID of a bottom layer, else sha256 of "<parent chain ID> <diffID>". */
export function chainIdOf(parentChain: string | undefined, diffId: string): string {
  return parentChain
    ? `sha256:${createHash('sha256').update(`${parentChain} ${diffId}`).digest('hex')}`
    : diffId;
}

function applyKey(): string {
  return `apply-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function workerFor(source: LayerSource, opts: OffThread): Worker | undefined {
  return opts.offThread && isDigest(source) && hasExtractWorker() ? takeWorker() : undefined;
}

/** Extracts into `dir` (in worker `w` when given) and checks the digest and diffID it read. */
async function extractVerified(
  store: Store,
  source: LayerSource,
  dir: string,
  mode: StreamOptions['mode'],
  opts: ApplyLayerOptions & OffThread,
  w: Worker | undefined,
): Promise<Extracted> {
  const expectedDigest = opts.expectedDigest ?? (isDigest(source) ? (source as Digest) : undefined);
  const x = { mode, ...(opts.mediaType ? { mediaType: opts.mediaType } : {}) };
  let got: Extracted;
  if (w) {
    const job = { path: store.content.blobPath(source as Digest), dir, opts: x };
    got = await extractInWorker(w, job, opts.ready, opts.growing);
  } else {
    await opts.ready;
    const input = isDigest(source) ? await store.content.read(source as Digest) : (source as Readable);
    got = await extractStream(input, dir, x);
  }
  if (expectedDigest && got.digest !== expectedDigest) {
    throw new StoreError(
      'DIGEST_MISMATCH',
      `layer digest mismatch: expected ${expectedDigest}, got ${got.digest}`,
    );
  }
  if (opts.expectedDiffId && got.diffId !== opts.expectedDiffId) {
    throw new StoreError(
      'DIGEST_MISMATCH',
      `layer diffID mismatch: expected ${opts.expectedDiffId}, got ${got.diffId}`,
    );
  }
  return got;
}

/** Commits active snapshot `key` (a verified layer on `parent`) under its chain ID, or finds it there. */
async function commitApplied(
  store: Store,
  key: string,
  parent: string | undefined,
  got: Extracted,
  name?: string,
): Promise<AppliedLayer> {
  const { digest, diffId, size } = got;
  const parentChain = parent
    ? ((await store.snapshots.stat(parent)).labels?.['tsbuild.chainid'] ?? parent)
    : undefined;
  const chainId = chainIdOf(parentChain, diffId);
  const snapshot = name ?? chainId;
  if ((await store.snapshots.tryStat(snapshot))?.kind === 'committed') {
    await store.snapshots.remove(key);
    return { snapshot, diffId, digest, size };
  }
  try {
    await store.snapshots.commit(snapshot, key, {
      labels: { 'tsbuild.chainid': chainId, 'tsbuild.diffid': diffId },
    });
  } catch (e) {
    // Another build applied the same layer meanwhile: same chain ID = same content; use theirs.
    if ((e as { code?: string }).code !== 'SNAPSHOT_EXISTS') throw e;
    await store.snapshots.remove(key);
  }
  return { snapshot, diffId, digest, size };
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
