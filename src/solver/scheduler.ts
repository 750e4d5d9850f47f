import type { ProgressSink } from '../progress/events.js';
import type { Vertex } from './graph.js';

/** What solving a vertex yields: a committed snapshot (undefined = empty rootfs) or a source handle. */
export interface OpResult {
  snapshot?: string;
  /** Op-specific data (e.g. the context dir), not persisted. */
  data?: unknown;
}

export interface OpContext {
  signal: AbortSignal;
  progress: ProgressSink;
  /** Cache key of the vertex being run (ops name their snapshots after it). */
  key: string;
}

/** An op kind: a pure-ish cache key and an exec. The scheduler knows nothing else about ops. */
export interface OpImpl {
  cacheKey(v: Vertex, inputKeys: string[], ctx: Omit<OpContext, 'key'>): Promise<string>;
  exec(v: Vertex, inputs: OpResult[], ctx: OpContext): Promise<OpResult>;
  /** Ops whose results are not cached (sources like the context): always exec. */
  uncached?: boolean;
}

export interface CacheIndex {
  /** A usable record for `key`, or undefined (a record whose snapshot is gone is a miss). */
  get(key: string): Promise<OpResult | undefined>;
  put(key: string, result: OpResult): Promise<void>;
}

export interface SchedulerOptions {
  opFor(v: Vertex): OpImpl;
  cache: CacheIndex;
  maxParallelism: number;
  signal: AbortSignal;
  progress: ProgressSink;
}

export interface SolveStats {
  cached: number;
  run: number;
}

/**
 * Solves vertices: keys first (inputs' keys, then the op's own), then a cache lookup; only a miss
 * solves the inputs and runs the op. One promise per vertex digest (single flight); at most
 * `maxParallelism` ops execute at once (waiting on inputs does not hold a slot, so no deadlock).
 */
export class Scheduler {
  readonly stats: SolveStats = { cached: 0, run: 0 };
  private readonly keys = new Map<string, Promise<string>>();
  private readonly results = new Map<string, Promise<OpResult>>();
  private running = 0;
  private readonly shown = new Set<string>();
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly o: SchedulerOptions) {}

  cacheKey(v: Vertex): Promise<string> {
    let p = this.keys.get(v.digest);
    if (!p) {
      p = (async () => {
        const inputKeys = await Promise.all(v.inputs.map((i) => this.cacheKey(i)));
        return this.o.opFor(v).cacheKey(v, inputKeys, { signal: this.o.signal, progress: this.o.progress });
      })();
      this.keys.set(v.digest, p);
    }
    return p;
  }

  /** Waits until every op this scheduler started has finished (after a failure, before returning). */
  async drain(): Promise<void> {
    for (;;) {
      const all = [...this.results.values()];
      await Promise.allSettled(all);
      if (this.results.size === all.length) return;
    }
  }

  solve(v: Vertex): Promise<OpResult> {
    let p = this.results.get(v.digest);
    if (!p) {
      p = this.solveOnce(v);
      this.results.set(v.digest, p);
    }
    return p;
  }

  private async solveOnce(v: Vertex): Promise<OpResult> {
    const impl = this.o.opFor(v);
    const key = await this.cacheKey(v);
    this.o.signal.throwIfAborted();
    const emit = (status: 'started' | 'cached' | 'done' | 'error' | 'canceled') => {
      // Uncached sources (the context) report their own work; their exec is a no-op.
      if (impl.uncached) return;
      this.o.progress.emit({
        type: 'vertex',
        id: v.digest,
        name: v.name,
        ...(v.stage ? { stage: v.stage } : {}),
        ...(v.line ? { line: v.line } : {}),
        status,
        at: Date.now(),
      });
    };
    if (!impl.uncached && !v.ignoreCache) {
      const hit = await this.o.cache.get(key);
      if (hit) {
        this.stats.cached++;
        emit('cached');
        this.markInputsCached(v);
        return hit;
      }
    }
    const inputs = await Promise.all(v.inputs.map((i) => this.solve(i)));
    await this.acquire();
    try {
      this.o.signal.throwIfAborted();
      emit('started');
      const result = await impl.exec(v, inputs, { signal: this.o.signal, progress: this.o.progress, key });
      if (!impl.uncached) {
        await this.o.cache.put(key, result);
        this.stats.run++;
      }
      emit('done');
      return result;
    } catch (e) {
      emit(this.o.signal.aborted ? 'canceled' : 'error');
      throw e;
    } finally {
      this.release();
    }
  }

  /**
   * A hit makes its inputs unnecessary; they are reported (and counted) as cached, as BuildKit lists
   * every step of a no-op rebuild as CACHED, unless this build solves them anyway.
   */
  private markInputsCached(v: Vertex): void {
    for (const i of v.inputs) {
      if (this.shown.has(i.digest) || this.results.has(i.digest)) continue;
      this.shown.add(i.digest);
      if (this.o.opFor(i).uncached) continue;
      this.stats.cached++;
      this.o.progress.emit({
        type: 'vertex',
        id: i.digest,
        name: i.name,
        ...(i.stage ? { stage: i.stage } : {}),
        ...(i.line ? { line: i.line } : {}),
        status: 'cached',
        at: Date.now(),
      });
      this.markInputsCached(i);
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.o.maxParallelism) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
