import { DockerfileSyntaxError } from '../errors.js';
import type { CheckConfig, Warning } from './types.js';

/** Drops skipped checks; with `error=true` the first remaining warning becomes the error. */
export function applyChecks(warnings: Warning[], checks: CheckConfig): Warning[] {
  const kept =
    checks.skip === 'all' ? [] : warnings.filter((w) => !(checks.skip as string[]).includes(w.code));
  if (checks.error && kept.length > 0) {
    const w = kept[0]!;
    throw new DockerfileSyntaxError(`lint violation: ${w.code}: ${w.message}`, w.range, {
      hint:
        'the Dockerfile sets `# check=error=true`; fix it or skip the check with `# check=skip=' +
        w.code +
        '`',
    });
  }
  return kept;
}
