import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { BuildOptions, BuildResult } from '../../src/build.js';
import { findImage } from '../../src/exporter/index.js';
import type { ProgressEvent } from '../../src/progress/index.js';
import { openStore } from '../../src/store/index.js';
import { type WatchEvent, watch } from '../../src/watch/index.js';
import { requireRoot } from '../helpers/require.js';

// watch() with an injected build function: the wiring between the watcher, the loop and the hooks.
describe('watch() wiring', () => {
  it('watches before building, uses --no-cache only for the first build, runs --exec with the image env', async () => {
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-wl-'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(ctx, 'a'), '1');
    const execLog = join(mkdtempSync(join(tmpdir(), 'tsb-wl-log-')), 'exec.log');
    const seen: BuildOptions[] = [];
    const events: WatchEvent[] = [];
    const buildFn = async (o: BuildOptions): Promise<BuildResult> => {
      seen.push(o);
      return {
        digest: `sha256:${String(seen.length).padStart(64, '0')}`,
        configDigest: 'sha256:cfg',
        manifest: {},
        config: {},
        tags: ['docker.io/library/app:dev'],
        size: 1,
        stepsCached: 1,
        stepsRun: 0,
        duration: 1,
      };
    };
    const ctl = new AbortController();
    const done = watch({
      build: { root: join(ctx, '.state'), context: ctx, tags: ['app:dev'], noCache: true },
      buildFn,
      debounceMs: 20,
      exec: `echo "$TSBUILD_IMAGE $TSBUILD_DIGEST $TSBUILD_IMAGE_ID" >> ${execLog}`,
      onEvent: (e) => events.push(e),
      signal: ctl.signal,
    });
    while (!events.some((e) => e.type === 'exec-done')) await sleep(10);
    writeFileSync(join(ctx, 'a'), '2');
    writeFileSync(join(ctx, '.state-not'), 'x');
    while (events.filter((e) => e.type === 'exec-done').length < 2) await sleep(10);
    ctl.abort();
    await done;
    const types = events.map((e) => e.type);
    expect(types.indexOf('ready')).toBeLessThan(types.indexOf('build-start'));
    expect(seen.map((o) => o.noCache)).toEqual([true, undefined]);
    expect(seen.every((o) => o.signal instanceof AbortSignal)).toBe(true);
    expect(readFileSync(execLog, 'utf8').split('\n').filter(Boolean)).toEqual([
      `app:dev sha256:${'1'.padStart(64, '0')} sha256:cfg`,
      `app:dev sha256:${'2'.padStart(64, '0')} sha256:cfg`,
    ]);
    const second = events.filter((e) => e.type === 'build-done')[1];
    expect(second?.type === 'build-done' && second.summary.changed.sort()).toEqual(['.state-not', 'a']);
  });

  it('stops at once when aborted during the first build, and the store root in the context is never a change', async () => {
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-wl-'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\n');
    let aborted = false;
    const events: WatchEvent[] = [];
    const ctl = new AbortController();
    const done = watch({
      build: { root: join(ctx, 'state'), context: ctx },
      buildFn: (o) =>
        new Promise((_r, reject) => {
          // A real build writes its store under --root while it runs.
          mkdirSync(join(ctx, 'state', 'blobs'), { recursive: true });
          writeFileSync(join(ctx, 'state', 'blobs', 'x'), 'x');
          o.signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('cancelled'));
          });
        }),
      debounceMs: 20,
      onEvent: (e) => events.push(e),
      signal: ctl.signal,
    });
    await sleep(200);
    expect(events.filter((e) => e.type === 'change')).toEqual([]);
    const t0 = Date.now();
    ctl.abort();
    await done;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(aborted).toBe(true);
  });

  it('with the real build, rebuilds during the quiet period but tags and reports only after it', async () => {
    requireRoot();
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-wl-spec-'));
    const root = mkdtempSync(join(tmpdir(), 'tsb-wl-spec-root-'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY a /a\n');
    writeFileSync(join(ctx, 'a'), 'one');
    const events: WatchEvent[] = [];
    const progress: { n: number; e: ProgressEvent; at: number }[] = [];
    const ctl = new AbortController();
    const done = watch({
      build: { root, context: ctx, tags: ['spec:dev'] },
      debounceMs: 1500,
      onEvent: (e) => events.push(e),
      progress: (n) => ({ emit: (e) => progress.push({ n, e, at: Date.now() }) }),
      signal: ctl.signal,
    });
    const builds = () => events.filter((e) => e.type === 'build-done');
    while (builds().length < 1) await sleep(10);
    const store = await openStore(root);
    const tagged = async () => (await findImage(store, 'spec:dev')).descriptor.digest;
    const first = await tagged();
    const t0 = Date.now();
    writeFileSync(join(ctx, 'a'), 'two');
    // The speculative build runs now; its COPY is done well within the quiet period (1.5 s).
    await sleep(900);
    expect(Date.now() - t0).toBeLessThan(1400);
    expect(events.filter((e) => e.type === 'build-start')).toHaveLength(1);
    expect(progress.filter((p) => p.n === 1)).toEqual([]);
    expect(await tagged()).toBe(first);
    while (builds().length < 2) await sleep(10);
    const second = builds()[1];
    const start = events.filter((e) => e.type === 'build-start')[1];
    expect((start?.at ?? 0) - t0).toBeGreaterThanOrEqual(1400);
    // Shown at once when the quiet period ends: the build was done already, only the tag remained.
    expect((second?.at ?? Infinity) - (start?.at ?? 0)).toBeLessThan(900);
    expect(second?.type === 'build-done' && second.summary.changed).toEqual(['a']);
    expect(await tagged()).toBe(second?.type === 'build-done' ? second.result.digest : '');
    expect(await tagged()).not.toBe(first);
    // Its progress was held, then shown whole (the COPY step included) once the gate opened.
    const shown = progress.filter((p) => p.n === 1);
    expect(shown.some((p) => p.e.type === 'vertex' && p.e.name.includes('COPY a /a'))).toBe(true);
    expect(Math.min(...shown.map((p) => p.at)) - t0).toBeGreaterThanOrEqual(1400);
    // … though the step itself ran during the quiet period (the event's own time says when).
    const copy = shown.find((p) => p.e.type === 'vertex' && p.e.name.includes('COPY a /a'));
    expect((copy?.e.at ?? Infinity) - t0).toBeLessThan(1400);
    ctl.abort();
    await done;
  });

  it('speculating, a temp file that comes and goes is still no change (the burst is settled whole)', async () => {
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-wl-tmp-'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(ctx, 'a'), '1');
    const events: WatchEvent[] = [];
    let calls = 0;
    const ctl = new AbortController();
    const done = watch({
      build: { root: join(ctx, '.state'), context: ctx },
      speculate: true,
      buildFn: async (o) => {
        calls++;
        if (o.exportGate) await o.exportGate;
        return {
          digest: `sha256:${String(calls).padStart(64, '0')}`,
          configDigest: 'sha256:cfg',
          manifest: {},
          config: {},
          tags: [],
          size: 1,
          stepsCached: 1,
          stepsRun: 0,
          duration: 1,
        };
      },
      debounceMs: 60,
      onEvent: (e) => events.push(e),
      signal: ctl.signal,
    });
    const builds = () => events.filter((e) => e.type === 'build-done');
    while (builds().length < 1) await sleep(10);
    writeFileSync(join(ctx, 'lockXyZ12'), 'x');
    rmSync(join(ctx, 'lockXyZ12'));
    await sleep(500);
    expect(builds()).toHaveLength(1);
    writeFileSync(join(ctx, 'a'), '2');
    while (builds().length < 2) await sleep(10);
    const second = builds()[1];
    expect(second?.type === 'build-done' && second.summary.changed).toEqual(['a']);
    ctl.abort();
    await done;
  });
});
