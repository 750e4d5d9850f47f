import { commitOptionsFor, type OutputSpec } from '../exporter/index.js';
import { createLayer, type Store } from '../store/index.js';
import type { Vertex } from './graph.js';
import type { SolvedFs } from './ops/env.js';
import type { OpResult } from './scheduler.js';

/**
 * The final image's layers, made while the build goes on: a step whose snapshot will be a layer of
 * the exported image (its stage chain: file, exec and merge ops from the target down through its
 * bases) starts that layer's tar as soon as it is committed, one at a time, instead of all of them
 * after the last step. The export then finds them made (createLayer's memo, and its single flight
 * for one still running). Only for one image output, whose codec is known now. Best effort: a layer
 * that fails here is made (and its error reported) by the export.
 */
export function eagerLayers(store: Store, target: Vertex | undefined, outputs: OutputSpec[]) {
  const output = outputs.length === 1 && outputs[0]?.type === 'image' ? outputs[0] : undefined;
  const commit = output ? commitOptionsFor(output) : undefined;
  const own = target && commit ? imageChain(target) : new Set<string>();
  let queue: Promise<void> = Promise.resolve();
  return {
    onRun(v: Vertex, r: OpResult): void {
      if (!commit || !own.has(v.digest)) return;
      const last = (r as Partial<SolvedFs>).layers?.at(-1);
      if (!last || !('snapshot' in last) || last.snapshot !== r.snapshot) return;
      const opts = {
        compression: commit.compression ?? 'gzip',
        ...(commit.level !== undefined ? { level: commit.level } : {}),
      };
      queue = queue.then(() =>
        createLayer(store, last.snapshot, opts).then(
          () => undefined,
          () => undefined,
        ),
      );
    },
    /** Waits for the layers started here (before the store closes). */
    settle: (): Promise<void> => queue,
  };
}

/** Vertices whose own snapshot is a layer of the target's image. */
function imageChain(target: Vertex): Set<string> {
  const out = new Set<string>();
  const visit = (v: Vertex): void => {
    if (out.has(v.digest)) return;
    const op = v.op;
    if (op.kind === 'merge') {
      for (const i of v.inputs) visit(i);
      return;
    }
    if (op.kind !== 'file' && op.kind !== 'exec') return;
    out.add(v.digest);
    const scratch = op.kind === 'file' ? op.scratchBase : op.scratchRoot === true;
    if (!scratch && v.inputs[0]) visit(v.inputs[0]);
  };
  visit(target);
  return out;
}
