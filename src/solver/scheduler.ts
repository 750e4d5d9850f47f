import { randomUUID } from 'node:crypto';
import { firstLine, TsbuildError } from '../errors.js';
import type { ProgressSink } from '../progress/events.js';
import { type ContentFamily, execBesideLookup, familyRecord, lookupByContent } from './content-cache.js';
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
  /** Run again below a no-cache step: commit a snapshot of its own, never join the key's old one. */
  fresh?: boolean;
}

/** An op kind: a pure-ish cache key and an exec. The scheduler knows nothing else about ops. */
export interface OpImpl {
  cacheKey(v: Vertex, inputKeys: string[], ctx: Omit<OpContext, 'key'>): Promise<string>;
  /**
   * BuildKit's content-based ("slow") key: asked only once the key above missed and the inputs are
   * solved; it stands for some inputs by the content this op reads from them (COPY --from sources)
   * instead of by their keys. Undefined when the op reads no input that way.
   */
  contentKey?(
    v: Vertex,
    inputs: OpResult[],
    inputKeys: string[],
    ctx: Omit<OpContext, 'key'>,
  ): Promise<string | undefined>;
  /**
   * The family key of `contentKey` (the op and the inputs it does not read by content), without
   * reading anything: see content-cache.ts. Undefined when the op reads no input by content.
   */
  contentFamily?(
    v: Vertex,
    inputKeys: string[],
    ctx: Omit<OpContext, 'key'>,
  ): Promise<ContentFamily | undefined>;
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
  /** Told each vertex this build ran (not the cached ones), as soon as its result is recorded. */
  onRun?: (v: Vertex, result: OpResult) => void;
  /** Told each vertex solved, run or cached, with its own cache key (`--cache-to` exports them). */
  onSolved?: (v: Vertex, key: string, result: OpResult) => void;
}

/** An effective key that names one result of this build only (see tainted). */
export const isRandomKey = (k: string | null | undefined): boolean => !!k?.startsWith('random:');

type VertexStatus = 'started' | 'cached' | 'done' | 'error' | 'canceled';

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
  /**
   * The key a solved vertex's result is known by for its dependents, when it is not its own key:
   * the key a content hit was first made with, the key over its own inputs' effective keys, or a
   * one-off `random:` key below a no-cache step. A dependent then also looks itself up (and records
   * itself) under the key made of these, as BuildKit links a cache record to every key of its
   * inputs' records: after an unchanged COPY --from output, the steps below are hits too.
   */
  private readonly effective = new Map<string, string>();
  /** What ops' key functions get: the build's signal and progress. */
  private readonly keyCtx: Omit<OpContext, 'key'>;
  private readonly taint = new Map<string, boolean>();
  private readonly results = new Map<string, Promise<OpResult>>();
  private running = 0;
  private readonly shown = new Set<string>();
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly o: SchedulerOptions) {
    this.keyCtx = { signal: o.signal, progress: o.progress };
  }

  cacheKey(v: Vertex): Promise<string> {
    let p = this.keys.get(v.digest);
    if (!p) {
      p = (async () => {
        const inputKeys = await Promise.all(v.inputs.map((i) => this.cacheKey(i)));
        const impl = this.o.opFor(v);
        return impl.cacheKey(v, inputKeys, this.keyCtx).catch((e: unknown) => {
          if (this.o.signal.aborted) throw e;
          // A COPY source missing fails here, before any step runs: say which step and show it
          // failed, as BuildKit does when its (lazier) key computation reaches the step.
          this.emitVertex(v, impl, 'started');
          this.emitVertex(v, impl, 'error', e);
          throw locateError(e, v);
        });
      })();
      this.keys.set(v.digest, p);
    }
    return p;
  }

  /** The key of `v` if this build computed it (a step below a hit has one, unsolved). */
  knownKey(v: Vertex): Promise<string> | undefined {
    return this.keys.get(v.digest);
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
      const told = this.o.onSolved;
      if (told)
        p = p.then(async (r) => {
          told(v, await this.cacheKey(v), r);
          return r;
        });
      this.results.set(v.digest, p);
    }
    return p;
  }

  private async solveOnce(v: Vertex): Promise<OpResult> {
    const impl = this.o.opFor(v);
    const key = await this.cacheKey(v);
    this.o.signal.throwIfAborted();
    const emit = (status: VertexStatus) => this.emitVertex(v, impl, status);
    const useCache = !impl.uncached && !v.ignoreCache;
    if (useCache && !this.tainted(v)) {
      const hit = await this.o.cache.get(key);
      if (hit) {
        this.stats.cached++;
        // Inputs first: BuildKit lists a cached build's steps in build order (FROM first).
        this.markInputsCached(v);
        emit('cached');
        return hit;
      }
    }
    const inputs = await Promise.all(v.inputs.map((i) => this.solve(i)));
    // The inputs' keys as their results are known now (see `effective`): fixed once they are solved.
    const inputKeys = await Promise.all(v.inputs.map((i) => this.cacheKey(i)));
    const eff = v.inputs.map((i, n) => this.effective.get(i.digest) ?? (inputKeys[n] as string));
    const linked = impl.uncached ? undefined : await this.linkedKey(v, impl, key, inputKeys, eff);
    const linkedHit = linked && useCache ? await this.o.cache.get(linked) : undefined;
    if (linked && linkedHit) return this.reuse(v, key, linked, linkedHit);
    const family = impl.uncached ? undefined : await impl.contentFamily?.(v, eff, this.keyCtx);
    const content =
      family && useCache
        ? lookupByContent({ impl, v, inputs, inputKeys: eff, cache: this.o.cache, ctx: this.keyCtx, family })
        : undefined;
    await this.acquire();
    try {
      this.o.signal.throwIfAborted();
      const fresh = this.tainted(v);
      const run = (signal: AbortSignal) =>
        impl.exec(v, inputs, { signal, progress: this.o.progress, key, fresh });
      const out = await execBesideLookup(run, content, this.o.signal, () => emit('started'));
      if (out.hit && out.foundAs) return await this.reuse(v, key, out.foundAs, out.hit);
      const result = out.result as OpResult;
      if (!impl.uncached) {
        for (const k of [key, ...(linked ? [linked] : [])]) await this.o.cache.put(k, result);
        // A result made below a no-cache step may differ from what its own key named before: its
        // dependents must not find old records through that key, only through content.
        const made = linked ?? (this.tainted(v) ? `random:${randomUUID()}` : key);
        if (made !== key) this.effective.set(v.digest, made);
        if (family) {
          const rec = familyRecord(result, made, family, inputs, out.contentKey);
          await this.o.cache.put(family.family, rec);
          if (out.contentKey) await this.o.cache.put(out.contentKey, rec);
        }
        this.stats.run++;
      }
      emit('done');
      this.o.onRun?.(v, result);
      return result;
    } catch (e) {
      if (this.o.signal.aborted) emit('canceled');
      else this.emitVertex(v, impl, 'error', e);
      throw this.o.signal.aborted ? e : locateError(e, v);
    } finally {
      this.release();
    }
  }

  private emitVertex(v: Vertex, impl: OpImpl, status: VertexStatus, error?: unknown): void {
    // Uncached sources (the context) report their own work; their exec is a no-op.
    if (impl.uncached) return;
    this.o.progress.emit({
      type: 'vertex',
      id: v.digest,
      name: v.name,
      ...(v.stage ? { stage: v.stage } : {}),
      ...(v.line ? { line: v.line } : {}),
      status,
      ...(error === undefined ? {} : { error: firstLine(error) }),
      at: Date.now(),
    });
  }

  /** A result found under another key: recorded under this build's own key too, for next time. */
  private async reuse(v: Vertex, key: string, foundAs: string, hit: OpResult): Promise<OpResult> {
    await this.o.cache.put(key, hit);
    this.effective.set(v.digest, foundAs);
    this.stats.cached++;
    this.emitVertex(v, this.o.opFor(v), 'cached');
    return hit;
  }

  /** The key over the inputs' effective keys, when one of them differs from the input's own key (or v is tainted). */
  private async linkedKey(
    v: Vertex,
    impl: OpImpl,
    key: string,
    inputKeys: string[],
    eff: string[],
  ): Promise<string | undefined> {
    // A no-cache step's own key names what it made before, whatever its inputs.
    if (v.ignoreCache || eff.some(isRandomKey)) return undefined;
    // Below a no-cache step the own key is not looked up; the same key over inputs all found by
    // content (or not below one) is.
    const tainted = this.tainted(v);
    if (!tainted && eff.every((k, n) => k === inputKeys[n])) return undefined;
    const linked = await impl.cacheKey(v, eff, this.keyCtx);
    return linked === key && !tainted ? undefined : linked;
  }

  /**
   * `--no-cache` / `--no-cache-filter` steps and everything below them: not looked up by their own
   * key (it names what the step made before), as in BuildKit, where an ignore-cache edge gives its
   * dependents no keys to probe, only its result's content.
   */
  private tainted(v: Vertex): boolean {
    let t = this.taint.get(v.digest);
    if (t === undefined) {
      t = !!v.ignoreCache || v.inputs.some((i) => this.tainted(i));
      this.taint.set(v.digest, t);
    }
    return t;
  }

  /**
   * A hit makes its inputs unnecessary; they are reported (and counted) as cached, as BuildKit lists
   * every step of a no-op rebuild as CACHED, unless this build solves them anyway.
   */
  private markInputsCached(v: Vertex): void {
    for (const i of v.inputs) {
      if (this.shown.has(i.digest) || this.results.has(i.digest)) continue;
      this.shown.add(i.digest);
      const impl = this.o.opFor(i);
      if (impl.uncached) continue;
      this.markInputsCached(i);
      this.stats.cached++;
      this.emitVertex(i, impl, 'cached');
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

/** Names the step an error came from, for the CLI's `Dockerfile:N` block (the innermost wins). */
function locateError(e: unknown, v: Vertex): unknown {
  if (e instanceof TsbuildError) e.locate(v.line, v.name);
  return e;
}
