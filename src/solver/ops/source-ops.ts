import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, lchown, mkdir, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TsbuildError } from '../../errors.js';
import { header } from '../../registry/http.js';
import { httpGetOr } from '../../registry/http-get.js';
import { digestOf, type HttpOp } from '../graph.js';
import type { OpImpl } from '../scheduler.js';
import type { SolvedFs, SolverEnv } from './env.js';
import { rememberUrl, revalidateUrl } from './http-etag.js';
import { sourceSnapshot } from './snapshots.js';

/** The build context: scanned once per build; COPY keys use its content checksums. */
export function contextOp(env: SolverEnv): OpImpl {
  return {
    uncached: true,
    async cacheKey() {
      return 'context';
    },
    async exec() {
      await env.context();
      return { data: { dir: env.contextDir } };
    },
  };
}

interface Download {
  file: string;
  digest: string;
  lastModified?: Date;
}

/**
 * ADD <url>: downloaded once per build (the content digest is the cache key, or `--checksum`
 * when given, verified), stored as a one-file snapshot (mode 0600, like BuildKit).
 */
export function httpOp(env: SolverEnv): OpImpl {
  const downloads = new Map<string, Promise<Download>>();
  const fetchOnce = (op: HttpOp, signal: AbortSignal) => {
    let p = downloads.get(op.url);
    if (!p) {
      p = download(env, op, signal);
      downloads.set(op.url, p);
    }
    return p;
  };
  return {
    async cacheKey(v, _inputKeys, ctx) {
      const op = v.op as HttpOp;
      // With --checksum the content is known up front: a cached step downloads nothing.
      if (op.checksum) return digestOf({ http: op.url, filename: op.filename, content: op.checksum });
      const known = downloads.has(op.url) ? undefined : await revalidateUrl(env, op.url, ctx.signal);
      const digest = known ? known.digest : (await fetchOnce(op, ctx.signal)).digest;
      return digestOf({ http: op.url, filename: op.filename, content: digest });
    },
    async exec(v, _inputs, ctx) {
      const op = v.op as HttpOp;
      const d = await fetchOnce(op, ctx.signal);
      const result: SolvedFs = await sourceSnapshot(env, ctx, async (dir) => {
        const target = join(dir, op.filename);
        await copyFile(d.file, target);
        await chmod(target, 0o600);
        await lchown(target, 0, 0);
        // BuildKit's http source: the Last-Modified time, else the epoch (never the download's time).
        const mtime = d.lastModified ?? new Date(0);
        await utimes(target, mtime, mtime);
      });
      return result;
    },
  };
}

async function download(env: SolverEnv, op: HttpOp, signal: AbortSignal): Promise<Download> {
  const failed = (why: string, cause?: unknown) =>
    new TsbuildError('ADD_URL_FAILED', `failed to load ${op.url}: ${why}`, cause ? { cause } : {});
  const res = await httpGetOr(op.url, signal, failed);
  // BuildKit's http source takes any status below 400 (a 3xx is followed first).
  if (res.status < 200 || res.status >= 400) {
    res.body.resume();
    throw failed(`HTTP ${res.status} ${res.body.statusMessage ?? ''}`.trimEnd());
  }
  const dir = await env.store.tempDir('http');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'data');
  const h = createHash('sha256');
  const hasher = new Transform({
    transform(chunk, _e, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(res.body, hasher, createWriteStream(file), { signal });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const digest = `sha256:${h.digest('hex')}`;
  if (op.checksum && op.checksum !== digest) {
    await rm(dir, { recursive: true, force: true });
    throw new TsbuildError('ADD_CHECKSUM_MISMATCH', `digest mismatch ${digest}: ${op.checksum}`, {
      hint: `the content of ${op.url} does not match --checksum`,
    });
  }
  const lm = header(res, 'last-modified');
  const parsed = lm ? new Date(lm) : undefined;
  const lastModified = parsed && !Number.isNaN(parsed.getTime()) ? parsed : undefined;
  const etag = header(res, 'etag');
  if (etag) {
    const rec = { etag, digest, ...(lastModified ? { lastModified: lastModified.getTime() } : {}) };
    await rememberUrl(env, op.url, rec).catch(() => undefined);
  }
  return { file, digest, ...(lastModified ? { lastModified } : {}) };
}
