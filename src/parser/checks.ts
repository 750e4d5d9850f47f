import { DockerfileSyntaxError } from '../errors.js';
import type { CheckConfig, Warning } from './types.js';

/** The warnings `# check=skip=` leaves. */
export function skipChecks(warnings: Warning[], checks: CheckConfig): Warning[] {
  return checks.skip === 'all' ? [] : warnings.filter((w) => !(checks.skip as string[]).includes(w.code));
}

/**
 * Drops skipped checks; with `error=true` any remaining warning fails the build, with BuildKit's
 * message naming every rule, the warnings themselves carried on the error to be printed first.
 */
export function applyChecks(warnings: Warning[], checks: CheckConfig): Warning[] {
  const kept = skipChecks(warnings, checks);
  if (checks.error && kept.length > 0) {
    const w = kept[0]!;
    const rules = [...new Set(kept.map((k) => k.code))];
    const err = new DockerfileSyntaxError(`lint violation found for rules: ${rules.join(', ')}`, w.range, {
      hint: `the Dockerfile sets \`# check=error=true\`; fix it or skip the check with \`# check=skip=${rules.join(',')}\``,
    });
    err.warnings = kept;
    throw err;
  }
  return kept;
}
