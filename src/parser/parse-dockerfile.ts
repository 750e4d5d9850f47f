import type { DockerfileAst, ParseOptions, Result } from './types.js';

/** Dockerfile text → AST (directives, escape token, nodes with ranges). Throws DockerfileSyntaxError. */
export function parseDockerfile(_text: string, _opts: ParseOptions = {}): Result<DockerfileAst> {
  throw new Error('not implemented yet');
}
