import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { BuildResult } from '../../src/build.js';
import {
  type BuildGate,
  RebuildLoop,
  type RebuildLoopOptions,
  type WatchEvent,
} from '../../src/watch/index.js';

const result = (n: number): BuildResult => ({
  digest: `sha256:${String(n).padStart(64, '0')}`,
  configDigest: 'sha256:c',
  manifest: {},
  config: {},
  tags: [],
  size: 1,
  stepsCached: 2,
  stepsRun: 1,
  duration: 1,
});

/** A build that takes `ms` and honours its signal like the real one. */
function slowBuild(
  ms: number,
  calls: { n: number; changed: string[]; aborted: boolean }[],
  fail?: (n: number) => boolean,
) {
  return async (n: number, changed: string[], signal: AbortSignal) => {
    const call = { n, changed, aborted: false };
    calls.push(call);
    try {
      await sleep(ms, undefined, { signal });
    } catch (e) {
      call.aborted = true;
      throw e;
    }
    if (fail?.(n)) throw new Error(`build ${n} failed`);
    return result(n);
  };
}

function loop(o: Partial<RebuildLoopOptions> & Pick<RebuildLoopOptions, 'build'>) {
  const events: WatchEvent[] = [];
  const l = new RebuildLoop({ debounceMs: 40, maxWaitMs: 2000, onEvent: (e) => events.push(e), ...o });
  const of = <T extends WatchEvent['type']>(t: T) =>
    events.filter((e) => e.type === t) as Extract<WatchEvent, { type: T }>[];
  return { l, events, of };
}

describe('RebuildLoop', () => {
  it('coalesces a burst of changes into one rebuild listing every path', async () => {
    const calls: { n: number; changed: string[]; aborted: boolean }[] = [];
    const { l, of } = loop({ build: slowBuild(5, calls) });
    l.start();
    await l.idle();
    for (let i = 0; i < 500; i++) {
      l.notify([`f${i}`]);
      if (i % 50 === 0) await sleep(5);
    }
    await sleep(10);
    await l.idle();
    expect(calls.map((c) => c.n)).toEqual([0, 1]);
    const done = of('build-done');
    expect(done).toHaveLength(2);
    expect(done[1]?.summary.changed).toHaveLength(500);
    expect(done[1]?.summary.changed).toContain('f499');
    await l.close();
  });

  it('cancels a build when a change comes in and rebuilds with everything changed since the last good one', async () => {
    const calls: { n: number; changed: string[]; aborted: boolean }[] = [];
    const { l, of } = loop({ build: slowBuild(300, calls) });
    l.start();
    await l.idle();
    l.notify(['a']);
    await sleep(150); // build #1 is running
    l.notify(['b']);
    await sleep(20);
    expect(calls[1]?.aborted).toBe(true);
    await l.idle();
    expect(of('build-cancelled').map((e) => e.n)).toEqual([1]);
    expect(of('build-done').map((e) => e.summary.n)).toEqual([0, 2]);
    expect(of('build-done')[1]?.summary.changed).toEqual(['a', 'b']);
    await l.close();
  });

  it('reports a failed build and keeps going', async () => {
    const calls: { n: number; changed: string[]; aborted: boolean }[] = [];
    const { l, of } = loop({ build: slowBuild(5, calls, (n) => n === 1) });
    l.start();
    await l.idle();
    l.notify(['Dockerfile']);
    await sleep(60);
    await l.idle();
    expect(of('build-failed')).toHaveLength(1);
    expect(String(of('build-failed')[0]?.error)).toMatch(/build 1 failed/);
    l.notify(['Dockerfile']);
    await sleep(60);
    await l.idle();
    expect(of('build-done').map((e) => e.summary.n)).toEqual([0, 2]);
    expect(of('build-done')[1]?.summary.changed).toEqual(['Dockerfile']);
    await l.close();
  });

  it('never runs two builds or a build and a hook at once; changes during a hook queue', async () => {
    let active = 0;
    let maxActive = 0;
    const track = async <T>(f: () => Promise<T>) => {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        return await f();
      } finally {
        active--;
      }
    };
    const calls: { n: number; changed: string[]; aborted: boolean }[] = [];
    const build = slowBuild(20, calls);
    const hooks: number[] = [];
    const { l, of } = loop({
      build: (n, c, s) => track(() => build(n, c, s)),
      after: (_r, s) =>
        track(async () => {
          hooks.push(s.n);
          await sleep(200);
        }),
    });
    l.start();
    await sleep(100); // in the hook of #0
    l.notify(['x']);
    await sleep(60);
    expect(calls).toHaveLength(1);
    await l.idle();
    expect(hooks).toEqual([0, 1]);
    expect(calls.filter((c) => c.aborted)).toHaveLength(0);
    expect(maxActive).toBe(1);
    expect(of('build-done')[1]?.summary.changed).toEqual(['x']);
    await l.close();
  });

  it('rebuilds within maxWait even while changes never stop', async () => {
    const calls: { n: number; changed: string[]; aborted: boolean }[] = [];
    const { l } = loop({ build: slowBuild(1, calls), debounceMs: 50, maxWaitMs: 150 });
    l.start();
    await l.idle();
    const t0 = Date.now();
    while (calls.length < 2 && Date.now() - t0 < 2000) {
      l.notify([`f${Date.now()}`]);
      await sleep(20);
    }
    expect(calls.length).toBe(2);
    expect(Date.now() - t0).toBeLessThan(1000);
    await l.close();
  });

  it.each([false, true])(
    'skips a rebuild when settle finds no real change, and forgets every batch it consumed (speculate %s)',
    async (speculate) => {
      const calls: { n: number; changed: string[]; aborted: boolean }[] = [];
      const forgotten: string[][] = [];
      const { l, of } = loop({
        speculate,
        build: slowBuild(5, calls),
        settle: (paths) => paths.filter((p) => !p.startsWith('tmp')),
        forget: (paths) => forgotten.push(paths),
      });
      l.start();
      await l.idle();
      l.notify(['tmp1', 'tmp2']);
      await sleep(80);
      await l.idle();
      expect(calls).toHaveLength(1);
      l.notify(['tmp3', 'real']);
      await sleep(80);
      await l.idle();
      expect(of('build-done')[1]?.summary.changed).toEqual(['real']);
      expect(forgotten).toEqual([[], ['tmp1', 'tmp2'], ['real', 'tmp3']]);
      await l.close();
    },
  );

  it('close() cancels the build in flight and waits for it', async () => {
    const calls: { n: number; changed: string[]; aborted: boolean }[] = [];
    const { l, of } = loop({ build: slowBuild(5000, calls) });
    l.start();
    await sleep(20);
    const t0 = Date.now();
    await l.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(calls[0]?.aborted).toBe(true);
    expect(of('build-done')).toHaveLength(0);
    l.notify(['late']);
    await sleep(80);
    expect(calls).toHaveLength(1);
  });

  describe('speculate', () => {
    /** A build that records when it was called and with which gate, and waits for it like the real one. */
    function gatedBuild(ms: number, log: { n: number; at: number; open: boolean; changed: string[] }[]) {
      return async (n: number, changed: string[], signal: AbortSignal, gate: BuildGate) => {
        log.push({ n, at: Date.now(), open: gate.open, changed });
        await sleep(ms, undefined, { signal });
        await Promise.race([gate.wait, sleep(60_000, undefined, { signal })]);
        return result(n);
      };
    }

    it('builds during the quiet period but shows the build only once it is over', async () => {
      const log: { n: number; at: number; open: boolean; changed: string[] }[] = [];
      const { l, events, of } = loop({ build: gatedBuild(5, log), debounceMs: 150, speculate: true });
      l.start();
      await l.idle();
      const t0 = Date.now();
      l.notify(['a']);
      await sleep(100);
      // Called at once, behind a closed gate; nothing said yet.
      expect(log).toHaveLength(2);
      expect(log[1]?.open).toBe(false);
      expect((log[1]?.at ?? Infinity) - t0).toBeLessThan(100);
      expect(of('build-start')).toHaveLength(1);
      await l.idle();
      const start = of('build-start')[1];
      expect(start?.n).toBe(1);
      expect((start?.at ?? 0) - t0).toBeGreaterThanOrEqual(140);
      expect(of('build-done').map((e) => e.summary.changed)).toEqual([[], ['a']]);
      expect(events.map((e) => e.type)).toEqual([
        'build-start',
        'build-done',
        'change',
        'build-start',
        'build-done',
      ]);
      await l.close();
    });

    it('drops a speculative build silently when another change comes in, and rebuilds with both', async () => {
      const log: { n: number; at: number; open: boolean; changed: string[] }[] = [];
      const { l, of } = loop({ build: gatedBuild(5, log), debounceMs: 80, speculate: true });
      l.start();
      await l.idle();
      l.notify(['a']);
      await sleep(30);
      l.notify(['b']);
      await sleep(20);
      await l.idle();
      expect(log.length).toBeGreaterThanOrEqual(3);
      expect(log[1]?.changed).toEqual(['a']);
      expect(log.at(-1)?.changed).toEqual(['a', 'b']);
      expect(of('build-cancelled')).toHaveLength(0);
      expect(of('build-start').map((e) => e.n)).toEqual([0, 1]);
      expect(of('build-done').map((e) => e.summary.changed)).toEqual([[], ['a', 'b']]);
      await l.close();
    });

    it('holds a failure of a speculative build until the quiet period is over', async () => {
      const { l, events, of } = loop({
        debounceMs: 120,
        speculate: true,
        build: async (n) => {
          if (n > 0) throw new Error('half-written Dockerfile');
          return result(n);
        },
      });
      l.start();
      await l.idle();
      const t0 = Date.now();
      l.notify(['Dockerfile']);
      await sleep(60);
      expect(of('build-failed')).toHaveLength(0);
      await l.idle();
      const failed = of('build-failed')[0];
      expect((failed?.at ?? 0) - t0).toBeGreaterThanOrEqual(110);
      expect(events.map((e) => e.type).slice(-2)).toEqual(['build-start', 'build-failed']);
      await l.close();
    });
  });
});
