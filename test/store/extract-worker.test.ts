import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GrowingBlob } from '../../src/store/layer/types.js';

// The worker exists only in compiled code (dist/, made by `npm test`'s build): these tests load the
// compiled module by path (typed by the source), so lint's type check runs without a build.
type Mod = typeof import('../../src/store/layer/extract-worker.js');
const repo = join(import.meta.dirname, '..', '..');
let m: Mod;

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const opts = { mode: 'overlay', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' } as const;
const tick = (ms = 2) => new Promise((r) => setTimeout(r, ms));

/** A gzip layer: small files first (named a…), then a 3 MiB file, so a follower shows early progress. */
function makeLayer(): { blob: Buffer; big: Buffer } {
  const src = mkdtempSync(join(tmpdir(), 'tsb-xw-src-'));
  mkdirSync(join(src, 'a-dir'));
  for (let i = 0; i < 20; i++) writeFileSync(join(src, 'a-dir', `f${i}`), `file ${i}\n`);
  const big = randomBytes(3 << 20);
  writeFileSync(join(src, 'z-big'), big);
  const out = join(src, '..', `${src.split('/').pop()}.tgz`);
  execFileSync('tar', ['-czf', out, '--sort=name', '-C', src, 'a-dir', 'z-big']);
  return { blob: readFileSync(out), big };
}

/** Plays a download into `path`: a GrowingBlob the way the registry's LayerFeed reports one. */
function download(path: string) {
  let bytes = 0;
  let open!: (p: string | undefined) => void;
  const listeners = new Set<(n: number) => void>();
  const feed: GrowingBlob = {
    file: new Promise((r) => {
      open = r;
    }),
    get bytes() {
      return bytes;
    },
    onBytes(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const fd = openSync(path, 'w');
  open(path);
  return {
    feed,
    async write(data: Buffer, from: number, to: number, chunk = 64 * 1024) {
      for (let p = from; p < to; p += chunk) {
        const n = Math.min(chunk, to - p);
        writeSync(fd, data, p, n, p);
        bytes = p + n;
        for (const fn of listeners) fn(bytes);
        await tick(1);
      }
    },
    close: () => closeSync(fd),
  };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}

/** A fresh diff dir and a download into a file beside it, followed by a worker from the start. */
function following() {
  const work = mkdtempSync(join(tmpdir(), 'tsb-xw-'));
  const dir = join(work, 'diff');
  mkdirSync(dir);
  const dl = download(join(work, 'data'));
  const ready = deferred();
  const w = m.takeWorker();
  const got = m.extractInWorker(w, { path: join(work, 'absent'), dir, opts }, ready.promise, dl.feed);
  return { work, dir, dl, ready, w, got };
}

describe('extractInWorker following a download (compiled worker)', () => {
  let layer: ReturnType<typeof makeLayer>;
  beforeAll(async () => {
    m = (await import(pathToFileURL(join(repo, 'dist', 'store', 'layer', 'extract-worker.js')).href)) as Mod;
    expect(m.hasExtractWorker()).toBe(true);
    layer = makeLayer();
  });

  it('unpacks the bytes as they land, and checks out at the end', async () => {
    const { dir, dl, ready, got } = following();
    const half = Math.floor(layer.blob.length / 2);
    await dl.write(layer.blob, 0, half);
    // The small files come first in the tar: they are on disk before the download is.
    for (let i = 0; i < 500 && !existsSync(join(dir, 'a-dir', 'f19')); i++) await tick(5);
    expect(readFileSync(join(dir, 'a-dir', 'f19'), 'utf8')).toBe('file 19\n');
    await dl.write(layer.blob, half, layer.blob.length);
    dl.close();
    ready.resolve();
    const res = await got;
    expect(res.digest).toBe(sha(layer.blob));
    expect(res.diffId).toBe(sha(gunzipSync(layer.blob)));
    expect(res.size).toBe(layer.blob.length);
    expect(readFileSync(join(dir, 'z-big')).equals(layer.big)).toBe(true);
  });

  it('a download that fails midway rejects with its error once the worker has stopped', async () => {
    const { dir, dl, ready, w, got } = following();
    await dl.write(layer.blob, 0, Math.floor(layer.blob.length / 2));
    ready.reject(Object.assign(new Error('connection reset by peer'), { code: 'ECONNRESET' }));
    await expect(got).rejects.toThrow('connection reset by peer');
    expect(w.threadId).toBe(-1);
    // Nothing writes into the dir after the rejection: the caller may remove it.
    const before = statSync(join(dir, 'z-big'), { throwIfNoEntry: false })?.size;
    await tick(50);
    expect(statSync(join(dir, 'z-big'), { throwIfNoEntry: false })?.size).toBe(before);
    dl.close();
  });

  it('bytes that are not a layer fail the extraction while the download still runs', async () => {
    const { dl, ready, got } = following();
    const bad = Buffer.concat([layer.blob.subarray(0, 4096), randomBytes(256 * 1024)]);
    await dl.write(bad, 0, bad.length);
    await expect(got).rejects.toMatchObject({ code: 'LAYER_INVALID' });
    ready.resolve();
    dl.close();
  });

  it('a download already committed (its ingest file gone) is read from the blob path', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tsb-xw-'));
    const dir = join(work, 'diff');
    mkdirSync(dir);
    const blobPath = join(work, 'blob');
    writeFileSync(blobPath, layer.blob);
    const feed: GrowingBlob = {
      file: Promise.resolve(join(work, 'ingest-data-renamed-away')),
      bytes: layer.blob.length,
      onBytes: () => () => {},
    };
    const res = await m.extractInWorker(
      m.takeWorker(),
      { path: blobPath, dir, opts },
      Promise.resolve(),
      feed,
    );
    expect(res.digest).toBe(sha(layer.blob));
    expect(readFileSync(join(dir, 'z-big')).equals(layer.big)).toBe(true);
  });
});
