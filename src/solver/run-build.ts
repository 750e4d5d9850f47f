import type { BuildOptions, BuildResult } from '../build.js';
import { TsbuildError } from '../errors.js';

export async function runBuild(_options: BuildOptions): Promise<BuildResult> {
  throw new TsbuildError('NOT_IMPLEMENTED', 'build is not implemented yet');
}
