// Watch mode: watch the context (honouring .dockerignore), debounce, cancel the build in flight,
// rebuild, then tag/push/output, `--exec`, and `--run` (restart the app container).
export { formatSummary } from './format-summary.js';
export { createIgnore, type IgnoreOptions, type WatchIgnore } from './ignore.js';
export type { BuildFn, RebuildSummary, RunOptions, WatchEvent, WatchOptions } from './types.js';
export { watch } from './watch.js';
