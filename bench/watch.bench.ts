// Watch benchmarks. (1) Latency from a file write to the new image tagged, for a one-file change that
// only the final COPY sees, on the `app` workload (../shared/bench/workloads.sh, base image from a
// registry started here): median and p90 of N edits, vs a one-shot `tsbuild build` of the same change
// (process start included, as a person would run it), vs the same watch without speculation (the build
// only after the quiet period) and vs the 300 ms target. (2) Start-up on the
// 20,000-file `bigctx` context: time to "watching" and peak RSS of the `tsbuild watch` process (warm
// cache), vs a bare chokidar watch of the same tree. Reports ratios; never asserts timings.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../src/build.js';
import { type WatchEvent, watch } from '../src/watch/index.js';
import { pushBusyboxImage, startRegistry } from '../test/helpers/registry.js';

const N = Number(process.env.WATCH_BENCH_N ?? 15);
const bin = join(import.meta.dirname, '..', 'bin', 'run.js');
const work = mkdtempSync(join(tmpdir(), 'tsb-bench-watch-'));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
};
const median = (xs: number[]) => pct(xs, 0.5);
const ms = (x: number) => `${x.toFixed(0)} ms`;

function appWorkload(base: string): string {
  const w = join(work, 'app');
  mkdirSync(join(w, 'src'), { recursive: true });
  for (let i = 1; i <= 300; i++) writeFileSync(join(w, 'src', `m${i}.js`), `export const v${i} = ${i};\n`);
  writeFileSync(join(w, 'package.json'), '{"name":"bench-app","version":"1.0.0"}\n');
  writeFileSync(join(w, 'version.txt'), 'v0\n');
  writeFileSync(
    join(w, 'Dockerfile'),
    `FROM ${base} AS deps
WORKDIR /app
COPY package.json ./
RUN for i in $(seq 1 2000); do mkdir -p node_modules/p$i && echo "module.exports = $i" > node_modules/p$i/index.js; done
FROM ${base} AS build
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY src ./src
RUN cat src/*.js > bundle.js && ls node_modules | wc -l > count.txt
FROM ${base}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/bundle.js /app/count.txt ./
COPY version.txt ./
USER 1000:1000
CMD ["cat", "/app/bundle.js"]
`,
  );
  return w;
}

async function latency(ctx: string, root: string, debounceMs: number, speculate = true): Promise<number[]> {
  const done: ((e: WatchEvent) => void)[] = [];
  const ctl = new AbortController();
  const onEvent = (e: WatchEvent) => {
    if (e.type === 'build-done' || e.type === 'build-failed') done.shift()?.(e);
    if (e.type === 'build-failed') console.error(e.error);
  };
  const next = () => new Promise<WatchEvent>((r) => done.push(r));
  let first = next();
  const ready = new Promise<void>((r) => {
    const orig = onEvent;
    const wrapped = (e: WatchEvent) => {
      orig(e);
      if (e.type === 'ready') r();
    };
    void watch({
      build: { root, context: ctx, tags: ['bench-watch:latest'] },
      debounceMs,
      speculate,
      onEvent: wrapped,
      signal: ctl.signal,
    });
  });
  await ready;
  await first;
  const times: number[] = [];
  for (let i = 1; i <= N; i++) {
    first = next();
    const t = performance.now();
    // Content never seen before: a cache hit would measure nothing.
    writeFileSync(join(ctx, 'version.txt'), `w${debounceMs}-${i}-${process.hrtime.bigint()}\n`);
    const e = await first;
    if (e.type !== 'build-done') throw new Error('rebuild failed');
    times.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 150));
  }
  ctl.abort();
  return times;
}

function oneShot(ctx: string, root: string): number[] {
  const times: number[] = [];
  for (let i = 1; i <= Math.min(N, 7); i++) {
    writeFileSync(join(ctx, 'version.txt'), `o${i}-${process.hrtime.bigint()}\n`);
    const t = performance.now();
    const r = spawnSync('node', [
      bin,
      'build',
      '--root',
      root,
      '-t',
      'bench-watch:latest',
      '--progress',
      'quiet',
      ctx,
    ]);
    if (r.status !== 0) throw new Error(`tsbuild build failed: ${r.stderr}`);
    times.push(performance.now() - t);
  }
  return times;
}

function bigctx(): string {
  const w = join(work, 'bigctx');
  for (let d = 1; d <= 100; d++) {
    mkdirSync(join(w, 'data', `d${d}`), { recursive: true });
    for (let f = 1; f <= 200; f++) {
      const size = ((d * f * 7919) % 16384) + 16;
      writeFileSync(join(w, 'data', `d${d}`, `f${f}.bin`), Buffer.alloc(size, (d * f) & 0xff));
    }
  }
  writeFileSync(join(w, 'Dockerfile'), 'FROM scratch\nWORKDIR /srv\nCOPY data ./data\n');
  return w;
}

/** Spawns a watcher, resolves when `readyText` is on stderr/stdout: time to it and peak RSS (VmHWM). */
function startup(cmd: string[], readyText: string): Promise<{ ms: number; rssMiB: number }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const p = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const on = (d: Buffer) => {
      out += d;
      if (!out.includes(readyText)) return;
      const elapsed = performance.now() - t;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      p.kill('SIGINT');
      p.once('exit', () => resolve({ ms: elapsed, rssMiB: Number(hwm?.[1] ?? 0) / 1024 }));
      p.stdout.off('data', on);
      p.stderr.off('data', on);
    };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.once('exit', (c) => (out.includes(readyText) ? undefined : reject(new Error(`exited ${c}: ${out}`))));
  });
}

const reg = await startRegistry();
try {
  const img = pushBusyboxImage(reg);
  const root = join(work, 'root');
  const app = appWorkload(img.ref);
  await build({ root, context: app, tags: ['bench-watch:latest'] }); // warm the cache
  const w = await latency(app, root, 100);
  const ws = await latency(app, root, 100, false);
  const w0 = await latency(app, root, 0);
  const o = oneShot(app, root);
  console.log('| app: write → new image tagged | median | p90 |');
  console.log('|---|---|---|');
  console.log(`| tsbuild watch (debounce 100 ms) | ${ms(median(w))} | ${ms(pct(w, 0.9))} |`);
  console.log(
    `| … without speculation (build after the quiet period) | ${ms(median(ws))} | ${ms(pct(ws, 0.9))} |`,
  );
  console.log(`| tsbuild watch --debounce 0 (the build alone) | ${ms(median(w0))} | ${ms(pct(w0, 0.9))} |`);
  console.log(`| one-shot \`tsbuild build\` | ${ms(median(o))} | ${ms(pct(o, 0.9))} |`);
  console.log(`| ratio watch / one-shot | ${(median(w) / median(o)).toFixed(2)} | |`);
  console.log(`| ratio watch / without speculation | ${(median(w) / median(ws)).toFixed(2)} | |`);
  console.log(`| ratio watch / 300 ms target | ${(median(w) / 300).toFixed(2)} | |`);

  const big = bigctx();
  execFileSync('node', [bin, 'build', '--root', root, '--progress', 'quiet', big]); // warm
  const chokidarOnly = `import('chokidar').then(({ watch }) => { const w = watch(${JSON.stringify(big)}, { ignoreInitial: true }); w.on('ready', () => console.log('READY')); })`;
  const help: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    spawnSync('node', [bin, 'watch', '--help']);
    help.push(performance.now() - t);
  }
  const ours: { ms: number; rssMiB: number }[] = [];
  const bare: { ms: number; rssMiB: number }[] = [];
  for (let i = 0; i < 3; i++) {
    ours.push(await startup(['node', bin, 'watch', '--root', root, '--progress', 'quiet', big], 'watching '));
    bare.push(await startup(['node', '-e', chokidarOnly], 'READY'));
  }
  const m = (xs: { ms: number; rssMiB: number }[], k: 'ms' | 'rssMiB') => median(xs.map((x) => x[k]));
  console.log('\n| bigctx (20,000 files) start-up | ready | peak RSS |');
  console.log('|---|---|---|');
  console.log(
    `| tsbuild watch (process start + initial build + watch) | ${ms(m(ours, 'ms'))} | ${m(ours, 'rssMiB').toFixed(0)} MiB |`,
  );
  console.log(`| bare chokidar 5 (node -e) | ${ms(m(bare, 'ms'))} | ${m(bare, 'rssMiB').toFixed(0)} MiB |`);
  console.log(`| \`tsbuild watch --help\` (process start floor) | ${ms(median(help))} | |`);
  console.log(
    `| ratio ours / bare | ${(m(ours, 'ms') / m(bare, 'ms')).toFixed(2)} | ${(m(ours, 'rssMiB') / m(bare, 'rssMiB')).toFixed(2)} |`,
  );
  console.log(
    `| ratio ours / target (2 s, 150 MiB) | ${(m(ours, 'ms') / 2000).toFixed(2)} | ${(m(ours, 'rssMiB') / 150).toFixed(2)} |`,
  );
} finally {
  await reg.stop();
}
