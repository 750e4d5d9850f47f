import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { type Digest, isDigest } from '../../oci/digest.js';
import { StoreError } from '../errors.js';
import type { Store } from '../types.js';
import { decompressStream, detectCompression } from './compression.js';
import { createExtractor } from './extract.js';
import { compressionOfMediaType } from './media-types.js';
import type { AppliedLayer, ApplyLayerOptions, LayerSource } from './types.js';

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
  const w = opts.offThread && isDigest(source) && WORKER_URL ? takeWorker() : undefined;
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
}

interface StreamOptions {
  mode: 'overlay' | 'flat';
  mediaType?: string;
}
interface Extracted {
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
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      try {
        x.write(chunk);
        cb();
      } catch (e) {
        cb(e as Error);
      }
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

/**
 * The worker's module, when running compiled: beside this file (`dist/store/layer/`), or under
 * `store/layer/` when this code runs from the esbuild bundle at `dist/` (`.cjs`: its `import.meta.url`
 * is the bundle's own URL, see scripts/bundle.mjs). Under a TS loader (tests) there is none, and
 * layers are extracted in-process.
 */
const WORKER_URL = workerModule();

function workerModule(): URL | undefined {
  if (!/\.c?js$/.test(import.meta.url)) return undefined;
  for (const rel of ['./apply-worker.js', './store/layer/apply-worker.js']) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(u)) return u;
  }
  return undefined;
}

/** A worker started ahead of need, idle (and not keeping the process alive) until a layer comes. */
let spare: Worker | undefined;

function spawnWorker(): Worker {
  const w = new Worker(WORKER_URL!);
  w.unref();
  // Its failures reach whoever holds it (see extractInWorker); an idle one must not crash the process.
  w.on('error', () => {});
  return w;
}

/**
 * Starts an extraction worker now (a pull has begun): its start-up (~40 ms of module loading)
 * overlaps the downloads instead of following them. A no-op where there is no worker module.
 */
export function prewarmExtractWorker(): void {
  if (WORKER_URL && (!spare || spare.threadId === -1)) spare = spawnWorker();
}

function takeWorker(): Worker {
  const w = spare && spare.threadId !== -1 ? spare : spawnWorker();
  spare = undefined;
  w.ref();
  return w;
}

/**
 * `extractStream` of a blob file in worker `w`: the extractor's syscalls and parsing are
 * synchronous, and a base image unpacked while the build converts and scans must not hold the
 * main thread. The job is posted once `ready` (the blob is in the store). Errors come back with
 * their code and hint; on any failure the worker is done writing before this rejects, so the caller
 * may remove the snapshot dir.
 */
function extractInWorker(
  w: Worker,
  job: { path: string; dir: string; opts: StreamOptions },
  ready?: Promise<void>,
): Promise<Extracted> {
  return new Promise((resolve, reject) => {
    let settled = false;
    if (w.threadId === -1) {
      // Died while idle (its 'exit' may have gone by unheard).
      reject(new StoreError('LAYER_INVALID', 'the layer extraction worker is gone'));
      return;
    }
    (ready ?? Promise.resolve()).then(
      () => w.postMessage(job),
      (e: unknown) => {
        settled = true;
        void w.terminate();
        reject(e);
      },
    );
    w.once('message', (m: { ok?: Extracted; error?: { code: string; message: string; hint?: string } }) => {
      settled = true;
      if (m.ok) resolve(m.ok);
      else
        reject(new StoreError(m.error!.code, m.error!.message, m.error!.hint ? { hint: m.error!.hint } : {}));
    });
    w.once('error', (e) => {
      settled = true;
      reject(new StoreError('LAYER_INVALID', `extracting layer failed: ${e.message}`, { cause: e }));
    });
    w.once('exit', (code) => {
      if (!settled) reject(new StoreError('LAYER_INVALID', `layer extraction worker exited with ${code}`));
    });
  });
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
