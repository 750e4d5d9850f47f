import { DockerfileSyntaxError, TsbuildError } from '../errors.js';

export interface RenderOptions {
  debug: boolean;
  /** The Dockerfile text, so syntax errors can show the lines around the range. */
  source?: string;
  /** The Dockerfile's name as the user gave it. */
  file?: string;
}

/** Lines around a range, the range marked with `>` and a caret under the start column. */
export function renderExcerpt(source: string, line: number, column: number, endLine = line): string {
  const lines = source.split(/\r?\n/);
  const from = Math.max(1, line - 2);
  const to = Math.min(lines.length, endLine + 2);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    // A long range (an unterminated heredoc runs to the end of the file) is shown by its ends.
    if (endLine - line > 10 && n === line + 4) {
      out.push(`  ${' '.repeat(width)} | ... ${endLine - line - 7} more lines ...`);
      n = endLine - 3;
    }
    const marked = n >= line && n <= endLine;
    const text = lines[n - 1] ?? '';
    // Long or binary lines (a wrong -f) must not flood or garble the terminal.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
    const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd');
    const shown = clean.length > 160 ? `${clean.slice(0, 160)}…` : clean;
    out.push(`${marked ? '>' : ' '} ${String(n).padStart(width)} | ${shown}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`);
  }
  return out.join('\n');
}

/** BuildKit's source block of a failed step: `Dockerfile:N`, the lines around it, `>>>` on the step. */
export function renderStepSource(source: string, line: number, file = 'Dockerfile'): string {
  const lines = source.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const from = Math.max(1, line - 2);
  const to = Math.min(lines.length, line + 2);
  const width = Math.max(4, String(to).length);
  const rule = '-'.repeat(20);
  const out = [`${file}:${line}`, rule];
  for (let n = from; n <= to; n++) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
    const text = (lines[n - 1] ?? '').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd');
    const shown = text.length > 160 ? `${text.slice(0, 160)}…` : text;
    out.push(`${String(n).padStart(width)} | ${n === line ? '>>>' : '   '} ${shown}`.trimEnd());
  }
  out.push(rule);
  return out.join('\n');
}

/** A step's failure that the solver located in the Dockerfile (`TsbuildError.locate`). */
function stepLocation(e: Error): { line: number; step?: string } | undefined {
  if (!(e instanceof TsbuildError) || e.line === undefined) return undefined;
  return { line: e.line, ...(e.step !== undefined ? { step: e.step } : {}) };
}

export function renderError(err: unknown, opts: RenderOptions): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const parts: string[] = [];
  if (e instanceof DockerfileSyntaxError) {
    const { start, end } = e.range;
    parts.push(`error: ${opts.file ?? 'Dockerfile'}:${start.line}:${start.column}: ${e.message}`);
    if (opts.source !== undefined) parts.push(renderExcerpt(opts.source, start.line, start.column, end.line));
  } else if (e instanceof TsbuildError && stepLocation(e)) {
    // `error: [2/5] RUN x: process "…" … exit code: N [RUN_FAILED]`, the output tail, then the source.
    const loc = stepLocation(e) as { line: number; step?: string };
    const [first, ...tail] = e.message.split('\n');
    parts.push(`error: ${loc.step ? `${loc.step}: ` : ''}${first} [${e.code}]`, ...tail);
    if (opts.source !== undefined) parts.push(renderStepSource(opts.source, loc.line, opts.file));
    else parts.push(`${opts.file ?? 'Dockerfile'}:${loc.line}`);
  } else if (e instanceof TsbuildError) {
    parts.push(`error: ${e.message} [${e.code}]`);
  } else if (noSpace(e)) {
    parts.push(`error: ${e.message} [NO_SPACE]`);
    parts.push(
      'hint: the disk holding the store (--root) or the temp dir is full: `tsbuild du` shows what uses it, `tsbuild prune` frees build cache',
    );
  } else {
    parts.push(`error: ${e.message}`);
  }
  if (e instanceof TsbuildError && e.hint) parts.push(`hint: ${e.hint}`);
  if (opts.debug && e.stack) parts.push(e.stack);
  return parts.join('\n');
}

/** ENOSPC/EDQUOT anywhere in the cause chain: a full disk, not a bug, and the store stays consistent. */
function noSpace(e: Error): boolean {
  for (let c: unknown = e, i = 0; c instanceof Error && i < 8; c = c.cause, i++) {
    const code = (c as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}
