// The parser's public surface. Everything here is pure: no IO, no printing.

export { applyChecks } from './checks.js';
export { parseCheckDirective, parseGoBool } from './directives.js';
export { type ExpandOptions, type ExpandResult, expandInstruction } from './expand-instruction.js';
export { chompHeredocContent, parseHeredocWord } from './heredoc.js';
export { warning } from './lint.js';
export { parseDockerfile } from './parse-dockerfile.js';
export { type ParseMountOptions, parseMount } from './parse-mount.js';
export {
  BuildArgScope,
  type PlatformSpec,
  PREDEFINED_ARG_NAMES,
  PROXY_ARG_NAMES,
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
  lookupFrom,
  processWordWithMatches,
  type WordResult,
} from './shell-lexer.js';
export { levenshtein, suggest } from './suggest.js';
export { KEYWORDS, toInstruction, toInstructions } from './to-instructions.js';
export { toStages } from './to-stages.js';
export * from './types.js';
