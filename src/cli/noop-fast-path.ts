import { parseBuildArgv } from './fast-build.js';
import { replayNoop } from './noop-replay.js';

/**
 * bin/run.js's first try for `build`: the no-op fast path (noop-replay.ts) on the raw arguments.
 * Bundled alone into dist/noop.bundle.cjs (scripts/bundle.mjs): one small CommonJS file loads in a
 * few ms, where the ES modules behind it take ~15.
 */
export function replayNoopArgv(argv: readonly string[]): boolean {
  const parsed = parseBuildArgv(argv);
  return parsed !== undefined && replayNoop(parsed);
}
