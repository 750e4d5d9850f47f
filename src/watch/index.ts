// Watch mode: watch the context (honouring .dockerignore), debounce, cancel the build in flight,
// rebuild, then tag/push/output, `--exec`, and `--run` (restart the app container).

export { type EventLine, eventJson, formatEvent } from './format-event.js';
export { formatSummary } from './format-summary.js';
export { createIgnore, type IgnoreOptions, type WatchIgnore } from './ignore.js';
export { type BuildGate, RebuildLoop, type RebuildLoopOptions } from './rebuild-loop.js';
export type { BuildFn, RebuildSummary, RunOptions, WatchEvent, WatchOptions } from './types.js';
export { dockerfilePath, execEnv, outputPaths, watch } from './watch.js';
