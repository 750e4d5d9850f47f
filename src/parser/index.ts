// The parser's public surface. Everything here is pure: no IO, no printing.

export { parseDockerfile } from './parse-dockerfile.js';
export { parseMount } from './parse-mount.js';
export {
  BuildArgScope,
  type PlatformSpec,
  type PredefinedArgsOptions,
  predefinedArgs,
  type ScopeOptions,
  StageScope,
} from './scope.js';
export {
  type EnvLookup,
  expandWord,
  expandWords,
  type LexOptions,
  processWordWithMatches,
  type WordResult,
} from './shell-lexer.js';
export { toInstructions } from './to-instructions.js';
export { toStages } from './to-stages.js';
export * from './types.js';
