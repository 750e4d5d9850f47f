import { commitOptionsFor, type OutputSpec } from '../exporter/index.js';
import { limiter } from '../registry/limit.js';
import { containerStarts } from '../runner/index.js';
import { createLayer, type Store } from '../store/index.js';
import type { Vertex } from './graph.js';
import type { SolvedFs } from './ops/env.js';
import type { OpResult } from './scheduler.js';

/** What runBuild wires to the scheduler (`onRun`) and waits for before build() returns. */
export interface EarlyLayers {
  onRun(v: Vertex, result: OpResult): void;
  /** Waits for the walks started (stopped first when the build's signal aborted). */
  settle(): Promise<void>;
}

/** Layers made ahead at once (the rest wait for a slot; the export makes any still waiting itself). */
const EARLY_LAYERS = 2;
/** The longest a layer made ahead waits for a container to start (see quietTime). */
const QUIET_WAIT_MS = 50;

/**
 * The export's layer blobs, started as the steps that make them finish instead of after the last
 * one: a step's layer (a tar walk of its snapshot, streamed into the content store) then overlaps
 * the steps still running, in this stage or another (measured: the 170 MB COPY layer of the bench's
 * `bigctx` beside its RUN). Only the target's own chain (inputs[0] from the target down, the rootfs
 * each step builds on) is exported; another stage's steps make no layer of this image. The export
 * asks createLayer for the same layers with the same options and joins these (single flight, then
 * the store's layer record). A failure here is left for the export to meet and report.
 */
export function earlyLayers(
  store: Store,
  target: Vertex | undefined,
  outputs: OutputSpec[],
  signal: AbortSignal,
): EarlyLayers {
  const output = outputs[0];
  // A rewrite-timestamp output wants other tars (clamped mtimes) than the ones made here.
  if (!output || (output.type !== 'image' && output.type !== 'registry') || output.rewriteTimestamp)
    return { onRun: () => {}, settle: async () => {} };
  const opts = commitOptionsFor(output);
  const chain = new Set<string>();
  for (let v = target; v; v = v.inputs[0]) chain.add(v.digest);
  const running: Promise<unknown>[] = [];
  const started = new Set<string>();
  // Bounded like the export's own layers: a chain of quick steps must not start a walk each at once.
  const gate = limiter(EARLY_LAYERS);
  const quiet = quietTime(QUIET_WAIT_MS);
  return {
    onRun(v, result) {
      if (!chain.has(v.digest)) return;
      for (const layer of (result as OpResult & Partial<SolvedFs>).layers ?? []) {
        if (!('snapshot' in layer) || started.has(layer.snapshot)) continue;
        started.add(layer.snapshot);
        const made = gate(async () => {
          await quiet.wait();
          // A failed solve aborts the build's signal (run-build.ts solveGraph): its walks stop.
          if (signal.aborted) return;
          await createLayer(store, layer.snapshot, {
            compression: opts.compression ?? 'gzip',
            ...(opts.level !== undefined ? { level: opts.level } : {}),
            signal,
          });
        });
        running.push(made.catch(() => undefined));
      }
    },
    async settle() {
      quiet.end();
      await Promise.all(running);
    },
  };
}

/**
 * When a layer walk may start: while a container runs (runc's start-up and the step's process
 * leave this process's main thread idle), else after `maxWaitMs`, or at once after `end()` (the
 * solve is over: nothing left to delay). Started beside the next step's own work instead, two walks
 * of one-file layers made that step's snapshot prepare take 22-27 ms instead of 4 (`parallel`).
 */
export function quietTime(maxWaitMs: number): { wait(): Promise<void>; end(): void } {
  let ended = false;
  const waiting = new Set<() => void>();
  return {
    wait() {
      if (ended) return Promise.resolve();
      return new Promise<void>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const done = () => {
          clearTimeout(timer);
          sub.stop();
          waiting.delete(done);
          resolve();
        };
        const sub = containerStarts(done);
        if (sub.running > 0) return done();
        timer = setTimeout(done, maxWaitMs);
        waiting.add(done);
      });
    },
    end() {
      ended = true;
      for (const done of [...waiting]) done();
    },
  };
}
