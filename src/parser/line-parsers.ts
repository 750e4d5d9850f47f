import { DockerfileSyntaxError, type SourceRange } from '../errors.js';
import { reWhitespace, scanWords, trimLeftGoSpace } from './split-command.js';

/**
 * BuildKit's per-keyword line parsers (parser/line_parsers.go): how the text after the flags is split
 * into args. They never expand variables and keep quotes; expansion happens at dispatch.
 */
export interface LineArgs {
  args: string[];
  json: boolean;
  /** ENV/LABEL: the legacy `KEY value` form was used (LegacyKeyValueFormat). */
  legacy?: boolean;
}

/** Words separated by whitespace; quotes group but stay in the word, escapes stay too. */
export function parseWords(rest: string, esc: string): string[] {
  return scanWords(rest, { esc, keep: true }).words;
}

/** ENV and LABEL: `k=v k2="v 2"` or the legacy `k v w` (value = rest of the line). */
export function parseNameVal(rest: string, keyword: string, esc: string, range: SourceRange): LineArgs {
  const words = parseWords(rest, esc);
  if (words.length === 0) return { args: [], json: false };
  if (!words[0]!.includes('=')) {
    const m = reWhitespace.exec(rest);
    if (!m) throw new DockerfileSyntaxError(`${keyword} must have two arguments`, range);
    return { args: [rest.slice(0, m.index), rest.slice(m.index + m[0].length)], json: false, legacy: true };
  }
  const args: string[] = [];
  for (const w of words) {
    const i = w.indexOf('=');
    if (i < 0) {
      throw new DockerfileSyntaxError(
        `Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`,
        range,
      );
    }
    args.push(w.slice(0, i), w.slice(i + 1));
  }
  return { args, json: false };
}

export function parseStringsWhitespaceDelimited(rest: string): LineArgs {
  if (rest === '') return { args: [], json: false };
  return { args: rest.split(new RegExp(reWhitespace.source)), json: false };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/** A JSON array of strings, or undefined when the text is not a JSON array (shell form fallback). */
export function parseJSON(rest: string, range: SourceRange): string[] | undefined {
  const t = trimLeftGoSpace(rest);
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t.slice(0, firstValueEnd(t)));
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new DockerfileSyntaxError(NOT_STRINGS, range);
  // Go's decoder turns an unpaired surrogate escape (`"\ud800"`) into U+FFFD; JSON.parse keeps it.
  return v.map((x: string) => x.replace(LONE_SURROGATE, '\ufffd'));
}

/**
 * Where the JSON value that `t` starts with ends. BuildKit reads the array with Go's
 * json.Decoder.Decode, which takes the first value and ignores what follows it:
 * `CMD ["a"] junk` is the exec form ["a"]. For valid JSON this bracket count ends where Go's
 * scanner does; for invalid JSON the prefix fails to parse, as Go's decode fails.
 */
function firstValueEnd(t: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if ((c === ']' || c === '}') && --depth === 0) return i + 1;
  }
  return t.length;
}

/** RUN, CMD, ENTRYPOINT, SHELL: JSON array, else the whole text as one shell command line. */
export function parseMaybeJSON(rest: string, range: SourceRange): LineArgs {
  if (rest === '') return { args: [], json: false };
  const j = parseJSON(rest, range);
  if (j) return { args: j, json: true };
  return { args: [rest], json: false };
}

/** ADD, COPY, VOLUME: JSON array, else whitespace-separated words. */
export function parseMaybeJSONToList(rest: string, range: SourceRange): LineArgs {
  const j = parseJSON(rest, range);
  if (j) return { args: j, json: true };
  return parseStringsWhitespaceDelimited(rest);
}

/** HEALTHCHECK: the type word (CMD/NONE), then like parseMaybeJSON. */
export function parseHealthConfig(rest: string, range: SourceRange): LineArgs {
  const m = /[\t\n\v\f\r \u0085\u00a0]/.exec(rest);
  const sep = m ? m.index : rest.length;
  if (sep === 0) return { args: [], json: false };
  const typ = rest.slice(0, sep);
  const cmd = parseMaybeJSON(trimLeftGoSpace(rest.slice(sep)), range);
  return { args: [typ, ...cmd.args], json: cmd.json };
}

/** ARG: one `name[=value]` word per argument. */
export function parseNameOrNameVal(rest: string, esc: string): LineArgs {
  return { args: parseWords(rest, esc), json: false };
}

/** MAINTAINER, STOPSIGNAL, USER, WORKDIR: the whole text as one argument. */
export function parseString(rest: string): LineArgs {
  return { args: rest === '' ? [] : [rest], json: false };
}
