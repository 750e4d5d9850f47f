import type { DockerfileAst, ParseOptions, Result, StagesResult } from './types.js';

/** Text or AST → stages + meta ARGs. Throws DockerfileSyntaxError (e.g. an instruction before FROM). */
export function toStages(_input: string | DockerfileAst, _opts: ParseOptions = {}): Result<StagesResult> {
  throw new Error('not implemented yet');
}
