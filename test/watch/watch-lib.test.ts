import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { BuildOptions, BuildResult } from '../../src/build.js';
import { type WatchEvent, watch } from '../../src/watch/index.js';

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
});
