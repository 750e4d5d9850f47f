import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleRoot, runStep } from '../../src/runner/index.js';
import { type Fixture, makeFixture, mountsMentioning, processCommandLines, runcList, sh } from './fixture.js';

let fx: Fixture;
fx = makeFixture();
afterAll(() => fx.cleanup());

function processesMatching(marker: string): string[] {
  return processCommandLines().filter((l) => l.includes(marker));
}

function expectClean(id: string, marker: string): void {
  expect(mountsMentioning(fx.dir)).toEqual([]);
  expect(runcList()).not.toContain(id);
  expect(existsSync(join('/run/runc', id))).toBe(false);
  expect(processesMatching(marker)).toEqual([]);
  expect(existsSync(join(bundleRoot(fx.root), id))).toBe(false);
}

describe('cancellation', () => {
  it('an abort mid-step kills a PID 1 that ignores SIGTERM, and leaves no mounts, runc state or processes', async () => {
    const ac = new AbortController();
    const id = `tsb-cancel-a-${process.pid}`;
    const started = Date.now();
    const run = sh(fx, 'sleep 3141 & sleep 3141; echo never', { id, signal: ac.signal, killGraceMs: 500 });
    await new Promise((r) => setTimeout(r, 400));
    expect(processesMatching('sleep 3141').length).toBeGreaterThan(0);
    expect(runcList()).toContain(id);
    ac.abort();
    await expect(run).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
    expect(Date.now() - started).toBeLessThan(5000);
    expectClean(id, 'sleep 3141');
  });

  it('SIGTERM first: a step that handles it exits within the grace period', async () => {
    const ac = new AbortController();
    const id = `tsb-cancel-b-${process.pid}`;
    const out: string[] = [];
    const run = sh(fx, 'trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.1; done', {
      id,
      signal: ac.signal,
      killGraceMs: 10_000,
      onStdout: (c) => out.push(c.toString()),
    });
    await new Promise((r) => setTimeout(r, 400));
    const t = Date.now();
    ac.abort();
    await expect(run).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
    expect(Date.now() - t).toBeLessThan(3000);
    expectClean(id, 'while true');
  });

  it('an abort racing the container start still stops it', async () => {
    for (const delay of [0, 5, 30]) {
      const ac = new AbortController();
      const id = `tsb-cancel-c${delay}-${process.pid}`;
      const run = sh(fx, 'sleep 2718', { id, signal: ac.signal, killGraceMs: 300 });
      setTimeout(() => ac.abort(), delay);
      await expect(run).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
      expectClean(id, 'sleep 2718');
    }
  });

  it('an already aborted signal runs nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(sh(fx, 'true', { signal: ac.signal })).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
  });

  it('runStep removes the half-made snapshot on cancel', async () => {
    const layer = fx.layer();
    const removed: string[] = [];
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    await expect(
      runStep({
        snapshotter: { prepare: async () => layer.mounts, remove: async (k) => void removed.push(k) },
        key: 'half',
        root: fx.root,
        process: { args: ['sleep', '1618'] },
        signal: ac.signal,
        killGraceMs: 200,
      }),
    ).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
    expect(removed).toEqual(['half']);
    expect(processesMatching('sleep 1618')).toEqual([]);
  });
});
