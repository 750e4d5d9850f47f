import type { Vertex } from '../graph.js';
import type { OpImpl } from '../scheduler.js';
import type { SolverEnv } from './env.js';
import { execOp } from './exec-op.js';
import { fileOp } from './file-op.js';
import { gitOp } from './git-op.js';
import { imageOp } from './image-op.js';
import { mergeOp } from './merge-op.js';
import { localContextOp } from './named-context-op.js';
import { contextOp, httpOp } from './source-ops.js';

export type { SolvedFs, SolverEnv } from './env.js';

/** The op table for one build: the scheduler calls `opFor(vertex)` and nothing else. */
export function createOps(env: SolverEnv): (v: Vertex) => OpImpl {
  const table = {
    image: imageOp(env),
    context: contextOp(env),
    localctx: localContextOp(env),
    http: httpOp(env),
    git: gitOp(env),
    exec: execOp(env),
    file: fileOp(env),
    merge: mergeOp(env),
  };
  return (v) => table[v.op.kind];
}
