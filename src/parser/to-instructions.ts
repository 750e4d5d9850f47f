import type { DockerfileAst, Instruction, Result } from './types.js';

/** AST → typed instructions. Throws DockerfileSyntaxError (bad flags, bad JSON, ARG/ENV syntax). */
export function toInstructions(_ast: DockerfileAst): Result<Instruction[]> {
  throw new Error('not implemented yet');
}
