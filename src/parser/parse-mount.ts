import type { EnvLookup } from './shell-lexer.js';
import type { RunMount } from './types.js';

/** Parses one `--mount` value. With `lookup`, each value is expanded first (BuildKit dispatch). */
export function parseMount(_spec: string, _lookup?: EnvLookup): RunMount {
  throw new Error('not implemented yet');
}
