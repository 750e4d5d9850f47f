// Store benchmarks: layer creation (tar + gzip/zstd) vs `tar | pigz` / `tar | zstd -T0`, apply vs
// `tar -x`, blob ingest vs `sha256sum`, on a 20,000-file / 160 MiB diff. Prints ratios (ours / native:
// 1.00 = as fast, below 1 = faster) of wall time and of CPU time (all threads / all processes: fair
// on a busy machine, where wall time punishes whoever runs fewer threads). Best of RUNS; no asserts.
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

interface Timing {
  wall: number;
  cpu: number;
}

let lastNativeCpu = 0;

/** Runs a native pipeline; records its children's CPU time (bash `times`). */
function sh(cmd: string, cwd?: string): void {
  const out = execFileSync('bash', ['-c', `{ ${cmd}; } >/dev/null; times`], { cwd, encoding: 'utf8' });
  const child = out.trim().split('\n').pop()!.split(/\s+/);
  const secs = (t: string) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
  };
  lastNativeCpu = (secs(child[0]!) + secs(child[1]!)) * 1000;
}

async function best(fn: () => Promise<void> | void, before?: () => void, native = false): Promise<Timing> {
  const b = { wall: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY };
  for (let i = 0; i < RUNS; i++) {
    before?.();
    const c0 = process.cpuUsage();
    const t = performance.now();
    await fn();
    const c = process.cpuUsage(c0);
    b.wall = Math.min(b.wall, performance.now() - t);
    b.cpu = Math.min(b.cpu, native ? lastNativeCpu : (c.user + c.system) / 1000);
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
  const rows: [string, Timing, Timing][] = [];
  const tarTo = async (out: string, codec?: 'gzip' | 'zstd') => {
    const { stream } = layerTarStream(diff, { source: 'plain' });
    if (codec) await pipeline(stream, compressStream(codec), createWriteStream(out));
    else await pipeline(stream, createWriteStream(out));
  };
  const tarFile = join(work, 'layer.tar');
  rows.push([
    'layer tar (uncompressed)',
    await best(() => tarTo(tarFile)),
    await best(() => sh(`tar -cf "${work}/native.tar" .`, diff), undefined, true),
  ]);
  rows.push([
    'layer tar + gzip',
    await best(() => tarTo(join(work, 'l.tgz'), 'gzip')),
    await best(() => sh(`tar -cf - . | pigz -6 > "${work}/n.tgz"`, diff), undefined, true),
  ]);
  rows.push([
    'layer tar + zstd',
    await best(() => tarTo(join(work, 'l.zst'), 'zstd')),
    await best(() => sh(`tar -cf - . | zstd -q -3 -T0 > "${work}/n.zst"`, diff), undefined, true),
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
    await best(() => sh(`tar -xpf "${tarFile}" -C "${target}"`), fresh, true),
  ]);
  const store = await openStore(join(work, 'store'));
  rows.push([
    'blob ingest (hash + fsync + rename)',
    await best(async () => {
      const b = await store.content.ingest(createReadStream(tarFile, { highWaterMark: 1 << 20 }));
      await store.content.delete(b.digest);
    }),
    await best(() => sh(`sha256sum "${tarFile}"`), undefined, true),
  ]);
  console.log('| operation | tsbuild MB/s | native MB/s | wall ratio | CPU ratio |');
  console.log('|---|---|---|---|---|');
  for (const [name, ours, native] of rows) {
    const rate = (t: Timing) => (mb / (t.wall / 1000)).toFixed(0);
    console.log(
      `| ${name} | ${rate(ours)} | ${rate(native)} | ${(ours.wall / native.wall).toFixed(2)} | ${(ours.cpu / native.cpu).toFixed(2)} |`,
    );
  }
  console.log('(ratios: tsbuild / native; native = GNU tar, pigz -6, zstd -3 -T0, tar -xpf, sha256sum)');
} finally {
  rmSync(work, { recursive: true, force: true });
}
