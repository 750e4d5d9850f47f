import type { BuildResult } from '../build.js';
import type { RebuildSummary, WatchEvent } from './types.js';

/**
 * Whether a build may make itself seen: a speculative build (started at the first change of a burst,
 * while the quiet period still runs) gets a closed gate and must write nothing visible (image, tags,
 * outputs, progress) until `wait` resolves; it is cancelled instead when another change comes in.
 */
export interface BuildGate {
  readonly open: boolean;
  readonly wait: Promise<void>;
}

export interface RebuildLoopOptions {
  /** Quiet period after the last change, ms. */
  debounceMs: number;
  /** A stream of changes that never pauses still rebuilds after this long, ms. */
  maxWaitMs: number;
  /** Runs build number `n`; must honour `signal` (the loop aborts it when a change comes in). */
  build(n: number, changed: string[], signal: AbortSignal, gate: BuildGate): Promise<BuildResult>;
  /**
   * Start building at the first change of a burst instead of after the quiet period, behind a closed
   * gate that opens when the quiet period is over: the wait and the build overlap, and what is seen
   * (events, image) is the same as without. Needs a build that honours the gate. Default false.
   */
  speculate?: boolean;
  /** After a good build: `--exec`, restart the app. Not cancelled by changes (they queue). */
  after?(result: BuildResult, summary: RebuildSummary): Promise<void>;
  onEvent(event: WatchEvent): void;
  /** At the start of a rebuild: which of the batch's paths are real changes (none: no rebuild). */
  settle?(paths: string[]): string[];
  /** After a build completed (good or failed): the batch's paths, as notified. */
  forget?(paths: string[]): void;
}

/** Speculative starts per burst: a long burst (git checkout) should not spin builds that die at once. */
const MAX_SPECULATIONS = 3;

interface Cycle {
  controller: AbortController;
  phase: 'build' | 'after';
  done: Promise<void>;
  gate: BuildGate & { release(): void };
}

function gate(open: boolean): Cycle['gate'] {
  let release = () => {};
  const wait = new Promise<void>((r) => {
    release = r;
  });
  const g = {
    open,
    wait,
    release() {
      g.open = true;
      release();
    },
  };
  if (open) release();
  return g;
}

class Cancelled extends Error {
  constructor() {
    super('a change came in while building: starting over');
  }
}

/**
 * The heart of watch, free of IO: changes are debounced into one rebuild (a burst of a `git checkout`
 * is one), a change during a build cancels it and the next build starts from the cache, and at most
 * one build or after-build hook runs at any time. Paths changed in a cancelled build carry over to the
 * next, so each summary lists everything changed since the last completed build.
 */
export class RebuildLoop {
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private burstStart = 0;
  private cycle: Cycle | undefined;
  private speculations = 0;
  private due = false;
  private n = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: RebuildLoopOptions) {}

  /** The initial build. */
  start(): void {
    this.begin();
  }

  /** Context paths changed (already filtered). */
  notify(paths: string[]): void {
    if (this.closed || paths.length === 0) return;
    for (const p of paths) this.pending.add(p);
    this.o.onEvent({ type: 'change', paths, at: Date.now() });
    // The build in flight reads a context that is already stale: stop it now, rebuild after the quiet period.
    if (this.cycle?.phase === 'build') this.cycle.controller.abort(new Cancelled());
    const now = Date.now();
    if (this.timer === undefined) {
      this.burstStart = now;
      this.speculations = 0;
    }
    clearTimeout(this.timer);
    const wait = Math.min(this.o.debounceMs, this.o.maxWaitMs - (now - this.burstStart));
    this.timer = setTimeout(() => this.fire(), Math.max(0, wait));
    this.speculate();
  }

  /** While the quiet period runs and nothing else does: build behind a closed gate. */
  private speculate(): void {
    if (!this.o.speculate || this.closed || this.cycle || this.timer === undefined) return;
    if (this.speculations >= MAX_SPECULATIONS || this.n === 0) return;
    this.speculations++;
    this.begin(false);
  }

  /** Resolves when no build is running and none is due. */
  idle(): Promise<void> {
    if (!this.cycle && this.timer === undefined) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops: cancels the build in flight and waits for it (and a running hook) to finish. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.cycle?.controller.abort(new Cancelled());
    await this.cycle?.done;
    this.wakeIdle();
  }

  private fire(): void {
    this.timer = undefined;
    if (this.closed) return;
    const c = this.cycle;
    // A speculative build that no change cancelled read the context as it is now: it is the rebuild.
    if (c && !c.gate.open && !c.controller.signal.aborted) c.gate.release();
    else if (c) this.due = true;
    else this.begin();
  }

  private begin(open = true): void {
    const controller = new AbortController();
    const cycle: Cycle = { controller, phase: 'build', done: Promise.resolve(), gate: gate(open) };
    this.cycle = cycle;
    cycle.done = this.runCycle(cycle).finally(() => {
      this.cycle = undefined;
      if (!this.closed && this.due && this.timer === undefined) {
        this.due = false;
        this.begin();
      } else if (this.timer !== undefined) this.speculate();
      if (!this.cycle) this.wakeIdle();
    });
  }

  private wakeIdle(): void {
    if (this.cycle || this.timer !== undefined) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async runCycle(cycle: Cycle): Promise<void> {
    const batch = [...this.pending].sort();
    this.pending.clear();
    const changed = this.o.settle ? this.o.settle(batch) : batch;
    if (this.n > 0 && changed.length === 0) {
      // A speculative start sees only the beginning of a burst (a temp file not yet gone): the
      // batch stays pending, unforgotten, for the whole burst to be settled after the quiet period.
      if (!cycle.gate.open) for (const p of batch) this.pending.add(p);
      // Only files that came and went (temp files): the context is as it was built.
      else this.o.forget?.(batch);
      return;
    }
    const n = this.n;
    const { signal } = cycle.controller;
    const started = Date.now();
    const outcome = this.o.build(n, changed, signal, cycle.gate).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if (!(await this.confirmed(cycle))) {
      // Cancelled before the quiet period was over: nobody saw it; its paths go to the next build.
      await outcome;
      for (const p of batch) this.pending.add(p);
      return;
    }
    this.n++;
    this.o.onEvent({ type: 'build-start', n, changed, at: Date.now() });
    let result: BuildResult;
    try {
      const r = await outcome;
      if ('error' in r) throw r.error;
      result = r.result;
      signal.throwIfAborted();
    } catch (error) {
      if (signal.aborted) {
        for (const p of batch) this.pending.add(p);
        this.o.onEvent({ type: 'build-cancelled', n, at: Date.now() });
      } else {
        this.o.forget?.(batch);
        this.o.onEvent({ type: 'build-failed', n, error, changed, at: Date.now() });
      }
      return;
    }
    this.o.forget?.(batch);
    const summary: RebuildSummary = {
      n,
      changed,
      stepsRun: result.stepsRun,
      stepsCached: result.stepsCached,
      duration: Date.now() - started,
      digest: result.digest,
      tags: result.tags,
    };
    this.o.onEvent({ type: 'build-done', summary, result, at: Date.now() });
    if (this.closed || !this.o.after) return;
    cycle.phase = 'after';
    await this.o.after(result, summary);
  }

  /** true once the cycle's gate is open; false when it is cancelled first. */
  private confirmed(cycle: Cycle): Promise<boolean> {
    const { signal } = cycle.controller;
    if (cycle.gate.open) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      signal.addEventListener('abort', onAbort, { once: true });
      void cycle.gate.wait.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
  }
}
