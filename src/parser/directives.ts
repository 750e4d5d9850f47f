import { DockerfileSyntaxError, type SourceRange } from '../errors.js';
import type { CheckConfig, Directive, EscapeToken } from './types.js';

/** `# name = value` (Go's `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`, \s being [\t\n\f\r ]). */
// The value part is trimmed by hand: `(.+?)\s*$` backtracks quadratically on long runs of blanks.
const reDirective = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=([^\n]*)$/;
const BLANKS = '\t\n\f\r ';

function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && BLANKS.includes(s[a]!)) a++;
  while (b > a && BLANKS.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

const KNOWN = new Set(['syntax', 'escape', 'check']);

/**
 * Parser directives are only recognised before anything else: the first line that is not a known
 * directive (an instruction, a blank line, a plain comment, an unknown directive) ends the search.
 * Each may appear once.
 */
export class DirectiveParser {
  done = false;
  readonly directives: Directive[] = [];
  escapeToken: EscapeToken = '\\';

  /** `line` is left-trimmed, without its newline; `lineNo` 1-based. */
  parseLine(line: string, lineNo: number): void {
    if (this.done) return;
    const m = reDirective.exec(line);
    const name = m?.[1]?.toLowerCase();
    const value = m ? trimBlanks(m[2]!) : '';
    if (!m || !name || !KNOWN.has(name) || value === '') {
      this.done = true;
      return;
    }
    const range: SourceRange = {
      start: { line: lineNo, column: 1 },
      end: { line: lineNo, column: Math.max(1, line.length) },
    };
    if (this.directives.some((d) => d.name === name)) {
      throw new DockerfileSyntaxError(`only one ${name} parser directive can be used`, range);
    }
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') {
        throw new DockerfileSyntaxError(`invalid escape token '${value}' does not match \` or \\`, range);
      }
      this.escapeToken = value;
    }
    if (name === 'check') parseCheckDirective(value, range);
    this.directives.push({ name: name as Directive['name'], value, range });
  }
}

/** `skip=A,B;error=true;experimental=C` (BuildKit's parseLintOptions). */
export function parseCheckDirective(value: string, range: SourceRange): CheckConfig {
  const cfg: CheckConfig = { skip: [], error: false };
  for (const part of value.split(';').slice(0, 3)) {
    const i = part.indexOf('=');
    if (i < 0) throw new DockerfileSyntaxError(`invalid check option ${JSON.stringify(part)}`, range);
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === 'skip') {
      const list = v.split(',').map((s) => s.trim());
      cfg.skip = list.includes('all') ? 'all' : list.filter((s) => s !== '');
    } else if (k === 'error') {
      const b = parseGoBool(v);
      if (b === undefined)
        throw new DockerfileSyntaxError(`failed to parse check option ${JSON.stringify(part)}`, range);
      cfg.error = b;
    } else if (k === 'experimental') {
      // Experimental checks (CopyIgnoredFile, InvalidDefinitionDescription) are not implemented: the
      // option is accepted, as BuildKit accepts it, and enables nothing.
      const list = v.split(',').map((s) => s.trim());
      cfg.experimental = list.includes('all') ? 'all' : list.filter((s) => s !== '');
    } else throw new DockerfileSyntaxError(`invalid check option ${JSON.stringify(k)}`, range);
  }
  return cfg;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}
