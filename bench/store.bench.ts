// Store benchmarks: layer creation (tar + gzip/zstd) vs `tar | pigz` / `tar | zstd -T0`, apply vs
// `tar -x`, blob ingest vs `sha256sum`, on a 20,000-file / 160 MiB diff. Prints ratios (ours / native
// time: 1.00 = as fast, below 1 = faster). Best of 3 runs each; never asserts timings.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { compressStream, extractLayer, openStore } from '../src/store/index.js';
import { layerTarStream } from '../src/store/layer/tar-writer.js';

const FILES = 20_000;
const TOTAL = 160 * 1024 * 1024;
const RUNS = 3;

function makeDiff(dir: string): void {
  // Mixed sizes (most small, a few large), half-compressible content like real filesystems.
  const avg = TOTAL / FILES;
  const text = Buffer.from(randomBytes(3 << 20).toString('base64'));
  let written = 0;
  for (let i = 0; i < FILES; i++) {
    const d = join(dir, `d${i % 200}`, `s${i % 7}`);
    if (i < 1400) mkdirSync(d, { recursive: true });
    const size =
      i === FILES - 1 ? Math.max(0, TOTAL - written) : Math.floor(avg * (i % 50 === 0 ? 10 : 0.82));
    const off = (i * 7919) % (text.length - size - 1);
    writeFileSync(join(d, `f${i}`), text.subarray(off, off + Math.min(size, text.length - off - 1)));
    written += size;
  }
}

function sh(cmd: string, cwd?: string): void {
  execFileSync('bash', ['-c', cmd], { cwd, stdio: 'ignore' });
}

async function best(fn: () => Promise<void> | void, before?: () => void): Promise<number> {
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    before?.();
    const t = performance.now();
    await fn();
    b = Math.min(b, performance.now() - t);
  }
  return b;
}

const work = mkdtempSync(join(tmpdir(), 'tsb-bench-store-'));
try {
  const diff = join(work, 'diff');
  mkdirSync(diff);
  makeDiff(diff);
  const bytes = Number(execFileSync('du', ['-sb', diff], { encoding: 'utf8' }).split('\t')[0]);
  const mb = bytes / 1e6;
  console.log(`diff: ${FILES} files, ${(bytes / 2 ** 20).toFixed(0)} MiB; best of ${RUNS}`);
  const rows: [string, number, number][] = [];
  const tarTo = async (out: string, codec?: 'gzip' | 'zstd') => {
    const { stream } = layerTarStream(diff, { source: 'plain' });
    if (codec) await pipeline(stream, compressStream(codec), createWriteStream(out));
    else await pipeline(stream, createWriteStream(out));
  };
  const tarFile = join(work, 'layer.tar');
  rows.push([
    'layer tar (uncompressed)',
    await best(() => tarTo(tarFile)),
    await best(() => sh(`tar -cf "${work}/native.tar" .`, diff)),
  ]);
  rows.push([
    'layer tar + gzip',
    await best(() => tarTo(join(work, 'l.tgz'), 'gzip')),
    await best(() => sh(`tar -cf - . | pigz -6 > "${work}/n.tgz"`, diff)),
  ]);
  rows.push([
    'layer tar + zstd',
    await best(() => tarTo(join(work, 'l.zst'), 'zstd')),
    await best(() => sh(`tar -cf - . | zstd -q -3 -T0 > "${work}/n.zst"`, diff)),
  ]);
  const target = join(work, 'x');
  const fresh = () => {
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target);
  };
  rows.push([
    'apply (extract tar)',
    await best(async () => {
      await extractLayer(createReadStream(tarFile, { highWaterMark: 1 << 20 }), target, { mode: 'overlay' });
    }, fresh),
    await best(() => sh(`tar -xpf "${tarFile}" -C "${target}"`), fresh),
  ]);
  const store = await openStore(join(work, 'store'));
  rows.push([
    'blob ingest (hash + fsync + rename)',
    await best(async () => {
      const b = await store.content.ingest(createReadStream(tarFile, { highWaterMark: 1 << 20 }));
      await store.content.delete(b.digest);
    }),
    await best(() => sh(`sha256sum "${tarFile}"`)),
  ]);
  console.log('| operation | tsbuild MB/s | native MB/s | time ratio (tsbuild / native) |');
  console.log('|---|---|---|---|');
  for (const [name, ours, native] of rows) {
    console.log(
      `| ${name} | ${(mb / (ours / 1000)).toFixed(0)} | ${(mb / (native / 1000)).toFixed(0)} | ${(ours / native).toFixed(2)} |`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
