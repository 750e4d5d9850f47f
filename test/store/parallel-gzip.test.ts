import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ParallelGzip } from '../../src/store/layer/compression.js';
import { gzipPool } from '../../src/store/layer/worker-pool.js';

/** Deterministic input: text runs (compressible) interleaved with hash output (not). */
function input(size: number): Buffer {
  const out = Buffer.alloc(size);
  let off = 0;
  for (let i = 0; off < size; i++) {
    const chunk =
      i % 3 === 2
        ? createHash('sha512').update(String(i)).digest()
        : Buffer.from(`module.exports = ${i}; // line ${i % 97}\n`);
    off += chunk.copy(out, off);
  }
  return out;
}

async function gzip(data: Buffer, chunk: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let o = 0; o < data.length; o += chunk) parts.push(data.subarray(o, o + chunk));
  const z = new ParallelGzip(6);
  const out = buffer(z);
  await pipeline(Readable.from(parts), z);
  return out;
}

describe('ParallelGzip', () => {
  it('gives the same bytes whether blocks go to libuv threads (pool not up) or to the pool, for any chunking', async () => {
    const data = input(3 * 1024 * 1024 + 12345);
    // First layer ever: its first blocks go to libuv's threads while the pool boots.
    const first = await gzip(data, 65536);
    const pool = gzipPool();
    for (let i = 0; i < 200 && !pool.ready; i++) await new Promise((r) => setTimeout(r, 25));
    expect(pool.ready).toBe(true);
    const second = await gzip(data, 1000003);
    expect(second.equals(first)).toBe(true);
    expect(gunzipSync(first).equals(data)).toBe(true);
    // and GNU gzip agrees it is one valid stream with the right CRC and size
    const check = execFileSync('gzip', ['-dc'], { input: first, maxBuffer: 64 << 20 });
    expect(check.equals(data)).toBe(true);
  });

  it('a pool started but never given a block does not keep the process alive', () => {
    const mod = join(import.meta.dirname, '..', '..', 'src', 'store', 'layer', 'worker-pool.ts');
    const script = `import(${JSON.stringify(mod)}).then((m) => { m.gzipPool(); })`;
    // The pool is made when a layer reaches its 4th block, which may then finish on libuv's threads.
    const started = Date.now();
    execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { timeout: 30_000 });
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('small and empty inputs: valid gzip without the pool', async () => {
    for (const n of [0, 1, 131072, 131073]) {
      const data = input(n);
      expect(gunzipSync(await gzip(data, 4096)).equals(data)).toBe(true);
    }
  });
});
