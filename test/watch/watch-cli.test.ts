import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { BUSYBOX_BASE, digestOf, leftovers, makeContext, WatchProcess } from './watch-process.js';

// Real `tsbuild watch` processes (bin/run.js → dist/), real builds with runc, one shared store so
// the busybox base layer is built once.
let root: string;
const running: WatchProcess[] = [];
const pids: number[] = [];
const start = (args: string[]) => {
  const w = new WatchProcess(['--root', root, ...args]);
  running.push(w);
  pids.push(w.proc.pid as number);
  return w;
};

beforeAll(() => {
  requireRoot();
  requireBinary('runc');
  root = mkdtempSync(join(tmpdir(), 'tsb-watch-root-'));
});
afterEach(async () => {
  for (const w of running.splice(0)) await w.interrupt();
});
afterAll(() => {
  const left = leftovers(root, pids);
  expect(left.containers).toEqual([]);
  expect(left.mounts).toEqual([]);
  expect(left.bundles).toEqual([]);
});

describe('tsbuild watch', () => {
  it('rebuilds on an edit: new image with the change, tagged, one summary line each', async () => {
    const ctx = makeContext(`${BUSYBOX_BASE}COPY a.txt /a.txt\n`, { 'a.txt': 'one\n' });
    const out = mkdtempSync(join(tmpdir(), 'tsb-watch-out-'));
    const w = start(['-t', 'watch-edit:dev', '-o', `type=local,dest=${out}`, ctx]);
    await w.waitSummaries(1);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('one\n');
    writeFileSync(join(ctx, 'a.txt'), 'two\n');
    await w.waitSummaries(2);
    const [first, second] = w.summaries();
    expect(second).toMatch(
      /^#1 1 file changed \(a\.txt\) · 1 step run, \d+ cached · \d+(ms|\.\d+s) · sha256:/,
    );
    expect(digestOf(second)).not.toBe(digestOf(first));
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('two\n');
    // Editor droppings and .git do not rebuild.
    writeFileSync(join(ctx, '.a.txt.swp'), 'x');
    writeFileSync(join(ctx, 'a.txt~'), 'x');
    writeFileSync(join(ctx, '4913'), '');
    mkdirSync(join(ctx, '.git'));
    writeFileSync(join(ctx, '.git', 'index'), 'x');
    // A temp file that comes and goes is no change at all.
    writeFileSync(join(ctx, 'lockXyZ12'), 'x');
    rmSync(join(ctx, 'lockXyZ12'));
    await new Promise((r) => setTimeout(r, 600));
    expect(w.summaries()).toHaveLength(2);
    // `sed -i` style: a temp file renamed over the file is a change of that file only.
    writeFileSync(join(ctx, 'sedAb12Cd'), 'three\n');
    renameSync(join(ctx, 'sedAb12Cd'), join(ctx, 'a.txt'));
    await w.waitSummaries(3);
    expect(w.summaries()[2]).toMatch(/^#2 1 file changed \(a\.txt\) /);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('three\n');
  });

  it('turns a burst of 500 files into one rebuild', async () => {
    const ctx = makeContext(`${BUSYBOX_BASE}COPY burst /burst\nRUN ls /burst | wc -l > /count\n`, {
      'burst/seed': 'seed',
    });
    const out = mkdtempSync(join(tmpdir(), 'tsb-watch-out-'));
    const w = start(['-o', `type=local,dest=${out}`, ctx]);
    await w.waitSummaries(1);
    for (let i = 0; i < 500; i++) writeFileSync(join(ctx, 'burst', `f${i}.txt`), `${i}\n`);
    await w.waitSummaries(2);
    await new Promise((r) => setTimeout(r, 1000));
    const lines = w.summaries();
    expect(lines, w.output()).toHaveLength(2);
    expect(lines[1]).toMatch(/^#\d+ 500 files changed/);
    expect(readFileSync(join(out, 'count'), 'utf8').trim()).toBe('501');
    // A new directory tree written in one go (as a `git checkout` or `tar x` does): its files count.
    for (let i = 0; i < 100; i++) {
      mkdirSync(join(ctx, 'burst', `new${i % 10}`, 'deep'), { recursive: true });
      writeFileSync(join(ctx, 'burst', `new${i % 10}`, 'deep', `g${i}.txt`), `${i}\n`);
    }
    await w.waitSummaries(3);
    await new Promise((r) => setTimeout(r, 800));
    expect(w.summaries(), w.output()).toHaveLength(3);
    expect(w.summaries()[2]).toMatch(/^#\d+ 100 files changed/);
    expect(readFileSync(join(out, 'count'), 'utf8').trim()).toBe('511');
  });

  it('cancels a long RUN when the context changes and rebuilds from the cache', async () => {
    const ctx = makeContext(
      `${BUSYBOX_BASE}COPY mode /mode\nRUN if grep -q slow /mode; then sleep 60; fi; cp /mode /done\n`,
      { mode: 'fast\n' },
    );
    const out = mkdtempSync(join(tmpdir(), 'tsb-watch-out-'));
    const w = start(['-o', `type=local,dest=${out}`, ctx]);
    await w.waitSummaries(1);
    writeFileSync(join(ctx, 'mode'), 'slow\n');
    await new Promise((r) => setTimeout(r, 1500)); // the RUN is sleeping now
    const t0 = Date.now();
    writeFileSync(join(ctx, 'mode'), 'fast again\n');
    await w.waitSummaries(2, 30_000);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(w.stderr).toMatch(/#1 cancelled/);
    expect(w.summaries()[1]).toMatch(/1 file changed \(mode\)/);
    expect(readFileSync(join(out, 'done'), 'utf8')).toBe('fast again\n');
    // The cancelled RUN's container is gone.
    expect(leftovers(root, [w.proc.pid as number]).containers).toEqual([]);
  });

  it('shows a broken Dockerfile with its line, keeps watching, and builds once fixed', async () => {
    const good = `${BUSYBOX_BASE}COPY a.txt /a.txt\n`;
    const ctx = makeContext(good, { 'a.txt': 'a\n' });
    const w = start(['-t', 'watch-broken', '--exec', `echo "exec:$TSBUILD_IMAGE:$TSBUILD_DIGEST"`, ctx]);
    await w.waitSummaries(1);
    await w.waitFor((x) => x.stdout.includes('exec:'), 'the --exec output');
    expect(w.stdout).toContain(`exec:watch-broken:${digestOf(w.summaries()[0])}`);
    writeFileSync(join(ctx, 'Dockerfile'), `${good}FROBNICATE /x\n`);
    await w.waitFor((x) => /build failed/.test(x.stderr), 'the build error');
    await w.waitFor((x) => /Dockerfile:5/.test(x.stderr), 'the error line');
    expect(w.stderr).toMatch(/FROBNICATE/i);
    expect(w.summaries()).toHaveLength(1);
    writeFileSync(join(ctx, 'Dockerfile'), `${good}COPY a.txt /b.txt\n`);
    await w.waitSummaries(2);
    expect(w.summaries()[1]).toMatch(/^#2 1 file changed \(Dockerfile\)/);
  });

  it('watches a named local context too (--build-context NAME=DIR): its edits rebuild, shown as NAME:path', async () => {
    const lib = mkdtempSync(join(tmpdir(), 'tsb-watch-lib-'));
    writeFileSync(join(lib, 'l.txt'), 'one\n');
    const ctx = makeContext(`${BUSYBOX_BASE}COPY --from=lib l.txt /l.txt\n`);
    const out = mkdtempSync(join(tmpdir(), 'tsb-watch-out-'));
    const w = start(['--build-context', `lib=${lib}`, '-o', `type=local,dest=${out}`, ctx]);
    await w.waitSummaries(1);
    expect(readFileSync(join(out, 'l.txt'), 'utf8')).toBe('one\n');
    writeFileSync(join(lib, 'l.txt'), 'two\n');
    await w.waitSummaries(2);
    // the named context loaded again, and the COPY from it
    expect(w.summaries()[1]).toMatch(/^#1 1 file changed \(lib:l\.txt\) · 2 steps run, /);
    expect(readFileSync(join(out, 'l.txt'), 'utf8')).toBe('two\n');
  });
});
