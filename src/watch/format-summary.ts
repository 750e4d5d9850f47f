import type { RebuildSummary } from './types.js';

const MAX_NAMES = 3;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

function formatChanged(changed: string[]): string {
  const names = changed.slice(0, MAX_NAMES).join(', ');
  const more = changed.length > MAX_NAMES ? `, +${changed.length - MAX_NAMES} more` : '';
  return `${plural(changed.length, 'file')} changed (${names}${more})`;
}

/**
 * The one line a rebuild prints, e.g.
 * `#3 1 file changed (src/m7.js) · 1 step run, 9 cached · 212ms · sha256:… · app:latest`.
 */
export function formatSummary(s: RebuildSummary): string {
  const what = s.n === 0 ? 'initial build' : formatChanged(s.changed);
  const steps = `${plural(s.stepsRun, 'step')} run, ${s.stepsCached} cached`;
  const parts = [`#${s.n} ${what}`, steps, formatDuration(s.duration), s.digest];
  if (s.tags.length > 0) parts.push(s.tags.join(', '));
  return parts.join(' · ');
}
