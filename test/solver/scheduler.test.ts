import { describe, expect, it } from 'vitest';
import { makeVertex, type Vertex } from '../../src/solver/graph.js';
import { type OpImpl, type OpResult, Scheduler } from '../../src/solver/scheduler.js';

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
  const cachedOrder: string[] = [];
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
    progress: {
      emit(e) {
        if (e.type === 'vertex' && e.status === 'cached') cachedOrder.push(e.name);
      },
    },
  });
  return { s, runs, peak: () => peak, ctl, store, cachedOrder };
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
    // In build order, as BuildKit lists a cached build: the inputs before the step they feed.
    expect(t2.cachedOrder).toEqual(['b', 'c', 'd']);
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

/**
 * src -> copy -> after: `copy` reads `src` by content. src's snapshot carries the content it made
 * (`src@<key>#<content>`), which copy's content key reads back (after `hashMs`, or failing).
 */
function contentGraph(o: {
  store: Map<string, OpResult>;
  srcKey: string;
  content?: string;
  hashMs?: number;
  hashFails?: boolean;
  ms?: Record<string, number>;
  fail?: string;
  /** --no-cache-filter on the source */
  noCache?: boolean;
}) {
  const src = makeVertex({ kind: 'context', name: 'context' }, [], {
    name: 'src',
    ...(o.noCache ? { ignoreCache: true } : {}),
  });
  const mk = (n: string, inputs: Vertex[]) =>
    makeVertex(
      { kind: 'exec', args: [n], env: [], cwd: '/', user: '', network: 'default', mounts: [] },
      inputs,
      {
        name: n,
      },
    );
  const copy = mk('copy', [src]);
  const after = mk('after', [copy]);
  const runs: string[] = [];
  const aborted: string[] = [];
  let hashes = 0;
  function opFor(v: Vertex): OpImpl {
    return {
      cacheKey: async (_v, keys) => (v === src ? o.srcKey : `${v.name}(${keys.join(',')})`),
      ...(v === copy && o.content !== undefined
        ? {
            contentFamily: async () => ({ family: 'family(copy)', inputs: [0] }),
            contentKey: async (_v: Vertex, inputs: OpResult[]) => {
              hashes++;
              await new Promise((r) => setTimeout(r, o.hashMs ?? 0));
              if (o.hashFails) throw new Error('no such source');
              return `copy<${inputs[0]?.snapshot?.split('#')[1]}>`;
            },
          }
        : {}),
      exec: async (_v, _i, ctx) => {
        runs.push(v.name);
        await new Promise((r) => setTimeout(r, o.ms?.[v.name] ?? 5));
        if (ctx.signal.aborted) {
          aborted.push(v.name);
          throw ctx.signal.reason;
        }
        if (o.fail === v.name) throw new Error(`${v.name} failed`);
        return { snapshot: v === src ? `src@${o.srcKey}#${o.content}` : `${v.name}@${o.srcKey}` };
      },
    };
  }
  const s = new Scheduler({
    opFor,
    cache: { get: async (k) => o.store.get(k), put: async (k, r) => void o.store.set(k, r) },
    maxParallelism: 2,
    signal: new AbortController().signal,
    progress: { emit() {} },
  });
  return { s, after, runs, aborted, hashes: () => hashes };
}

describe('Scheduler: content keys (BuildKit slow keys)', () => {
  it('a source that ran again with the same content: the step and the ones after it are hits', async () => {
    const store = new Map<string, OpResult>();
    const first = contentGraph({ store, srcKey: 'v1', content: 'same' });
    expect((await first.s.solve(first.after)).snapshot).toBe('after@v1');
    const second = contentGraph({ store, srcKey: 'v2', content: 'same' });
    const r = await second.s.solve(second.after);
    // the content key is there before the step's head start is over: the step never starts
    expect(second.runs).toEqual(['src']);
    expect(r.snapshot).toBe('after@v1');
    expect(second.s.stats).toEqual({ cached: 2, run: 1 }); // src ran
    // recorded under this build's own keys too: the same build again hits straight away
    const third = contentGraph({ store, srcKey: 'v2', content: 'same' });
    await third.s.solve(third.after);
    expect(third.runs).toEqual([]);
  });

  it('other content runs the step; a content hit stops a step still running, and beats its error', async () => {
    const store = new Map<string, OpResult>();
    const first = contentGraph({ store, srcKey: 'v1', content: 'same' });
    await first.s.solve(first.after);
    const other = contentGraph({ store, srcKey: 'v2', content: 'other' });
    expect((await other.s.solve(other.after)).snapshot).toBe('after@v2');
    expect(other.runs).toEqual(['src', 'copy', 'after']);

    // a content key slower than its head start: the step starts, and stops at the hit
    const slow = contentGraph({ store, srcKey: 'v3', content: 'same', hashMs: 80, ms: { copy: 300 } });
    expect((await slow.s.solve(slow.after)).snapshot).toBe('after@v1');
    expect(slow.aborted).toEqual(['copy']);

    const failing = contentGraph({ store, srcKey: 'v4', content: 'same', hashMs: 80, fail: 'copy' });
    expect((await failing.s.solve(failing.after)).snapshot).toBe('after@v1');
    expect(failing.runs).toContain('copy'); // it ran, failed, and the hit that came later stood
  });

  it('nothing is hashed without an earlier run to compare with; a failed hash leaves the step its outcome', async () => {
    const store = new Map<string, OpResult>();
    const cold = contentGraph({ store, srcKey: 'v1', content: 'same' });
    await cold.s.solve(cold.after);
    expect(cold.hashes()).toBe(0);
    const broken = contentGraph({ store, srcKey: 'v2', content: 'same', hashFails: true, fail: 'copy' });
    await expect(broken.s.solve(broken.after)).rejects.toThrow(/copy failed/);
    const fine = contentGraph({ store, srcKey: 'v3', content: 'same', hashFails: true });
    expect((await fine.s.solve(fine.after)).snapshot).toBe('after@v3');
    // the family remembers the checksum it compared once: the next comparison hashes only the new side
    const again = contentGraph({ store, srcKey: 'v4', content: 'other' });
    await again.s.solve(again.after);
    const twice = contentGraph({ store, srcKey: 'v5', content: 'other' });
    await twice.s.solve(twice.after);
    expect(twice.runs).toEqual(['src']);
    expect(twice.hashes()).toBe(1);
  });

  it('a no-cache source runs again and its dependents are found by content only, never by its key', async () => {
    const store = new Map<string, OpResult>();
    const first = contentGraph({ store, srcKey: 'v1', content: 'same' });
    await first.s.solve(first.after);
    // same key, same content: src runs, the rest is found through the content key
    const same = contentGraph({ store, srcKey: 'v1', content: 'same', noCache: true });
    expect((await same.s.solve(same.after)).snapshot).toBe('after@v1');
    expect(same.runs).toEqual(['src']);
    // same key, other content: src's key names an old result, so everything below runs
    const other = contentGraph({ store, srcKey: 'v1', content: 'other', noCache: true });
    expect((await other.s.solve(other.after)).snapshot).toBe('after@v1');
    expect(other.runs).toEqual(['src', 'copy', 'after']);
    // a step without a content key on top of a no-cache step always runs
    const plain = contentGraph({ store, srcKey: 'v1', noCache: true });
    await plain.s.solve(plain.after);
    expect(plain.runs).toEqual(['src', 'copy', 'after']);
  });
});
