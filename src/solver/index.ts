// The solver's public surface: the frontend (stages → op graph), the generic scheduler and the op
// table. `build()` (src/build.ts) is the usual entry point; these are for tools and tests.
export {
  CONTEXT_VERTEX,
  type ConvertOptions,
  type ConvertResult,
  convert,
  type ResolvedImage,
} from './frontend/convert.js';
export type { StageImage } from './frontend/image-config.js';
export {
  type ContextOp,
  canonicalJson,
  digestOf,
  type ExecMountSpec,
  type ExecOp,
  type FileAction,
  type FileOp,
  type HttpOp,
  type ImageOp,
  type MergeOp,
  makeVertex,
  type Op,
  type Vertex,
} from './graph.js';
export { createOps, type SolvedFs, type SolverEnv } from './ops/index.js';
export {
  type CacheIndex,
  type OpContext,
  type OpImpl,
  type OpResult,
  Scheduler,
  type SchedulerOptions,
  type SolveStats,
} from './scheduler.js';
