import { describe, expect, it } from 'vitest';
import { makeVertex, type Vertex } from '../../src/solver/graph.js';
import { type OpResult, Scheduler } from '../../src/solver/scheduler.js';

function graph() {
  const a = makeVertex({ kind: 'context', name: 'context' }, [], { name: 'a' });
  const mk = (n: string, inputs: Vertex[]) =>
    makeVertex(
      { kind: 'exec', args: [n], env: [], cwd: '/', user: '', network: 'default', mounts: [] },
      inputs,
      { name: n },
    );
  const b = mk('b', [a]);
  const c = mk('c', [a]);
  const d = mk('d', [b, c, b]);
  return { a, b, c, d };
}

function setup(max: number, store = new Map<string, OpResult>(), delay = 20) {
  const runs: string[] = [];
  let concurrent = 0;
  let peak = 0;
  const ctl = new AbortController();
  const s = new Scheduler({
    opFor: (v) => ({
      uncached: v.op.kind === 'context',
      cacheKey: async (_v, inputKeys) => `${v.digest}|${inputKeys.join(',')}`,
      exec: async () => {
        runs.push(v.name);
        concurrent++;
        peak = Math.max(peak, concurrent);
        await new Promise((r) => setTimeout(r, delay));
        concurrent--;
        ctl.signal.throwIfAborted();
        return { snapshot: `snap-${v.name}` };
      },
    }),
    cache: { get: async (k) => store.get(k), put: async (k, r) => void store.set(k, r) },
    maxParallelism: max,
    signal: ctl.signal,
    progress: { emit() {} },
  });
  return { s, runs, peak: () => peak, ctl, store };
}

describe('Scheduler', () => {
  it('single-flights vertices and bounds parallelism', async () => {
    const { d } = graph();
    const t = setup(1);
    const r = await t.s.solve(d);
    expect(r.snapshot).toBe('snap-d');
    expect(t.runs.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(t.peak()).toBe(1);
    const t2 = setup(2);
    await t2.s.solve(d);
    expect(t2.peak()).toBe(2);
  });

  it('a cache hit runs nothing below it; records persist across schedulers', async () => {
    const { d } = graph();
    const t = setup(2);
    await t.s.solve(d);
    const t2 = setup(2, t.store);
    await t2.s.solve(d);
    expect(t2.runs).toEqual([]);
    expect(t2.s.stats).toEqual({ cached: 3, run: 0 }); // d hit; b and c reported cached, the context is not a step
  });

  it('ignoreCache re-runs the vertex; abort cancels', async () => {
    const { d } = graph();
    const t = setup(2);
    await t.s.solve(d);
    const t2 = setup(2, t.store);
    await t2.s.solve({ ...d, ignoreCache: true, digest: 'x' });
    expect(t2.runs).toEqual(['d']);
    const t3 = setup(1, new Map(), 50);
    const p = t3.s.solve(d);
    setTimeout(() => t3.ctl.abort(new Error('stop')), 10);
    await expect(p).rejects.toThrow(/stop/);
  });
});
