import { isGoSpace } from './shell-lexer.js';

// Every Go space is a single UTF-16 code unit, so these scan code units (no Array.from on big lines).

/** Go's strings.TrimSpace (unicode.IsSpace on both ends). */
export function trimGoSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpace(s[a]!)) a++;
  while (b > a && isGoSpace(s[b - 1]!)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Go's strings.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftGoSpace(s: string): string {
  let i = 0;
  while (i < s.length && isGoSpace(s[i]!)) i++;
  return i === 0 ? s : s.slice(i);
}

/** BuildKit's reWhitespace: `[\t\v\f\r ]+` (no newline: logical lines have none). */
export const reWhitespace = /[\t\v\f\r ]+/;

export interface SplitCommand {
  keyword: string;
  flags: string[];
  args: string;
}

/** `KEYWORD --flag=v --bool args…` → keyword as written, raw flag words, the rest trimmed. */
export function splitCommand(line: string): SplitCommand {
  const trimmed = trimGoSpace(line);
  const m = reWhitespace.exec(trimmed);
  if (!m) return { keyword: trimmed, flags: [], args: '' };
  const keyword = trimmed.slice(0, m.index);
  const rest = trimmed.slice(m.index + m[0].length);
  const { args, flags } = extractBuilderFlags(rest);
  return { keyword, flags, args: trimGoSpace(args) };
}

/**
 * Leading `--flag[=value]` words (quotes and backslash escapes inside a flag are processed, like
 * BuildKit's extractBuilderFlags); stops at the first word not starting with `--`, or after a bare `--`.
 */
export function extractBuilderFlags(line: string): { args: string; flags: string[] } {
  // Code units are enough: quotes, backslashes and spaces are never half of a surrogate pair.
  const chars = line;
  const flags: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  const rest = (pos: number) => line.slice(pos);
  for (let pos = 0; pos <= chars.length; pos++) {
    const end = pos === chars.length;
    let ch = end ? '' : chars[pos]!;
    if (phase === 'spaces') {
      if (end) break;
      if (isGoSpace(ch)) continue;
      if (ch !== '-' || pos + 1 === chars.length || chars[pos + 1] !== '-') return { args: rest(pos), flags };
      phase = 'word';
    }
    if (end) {
      if (word !== '--' && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { args: rest(pos), flags };
        if (blankOK || word.length > 0) flags.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === chars.length) continue;
        pos++;
        ch = chars[pos]!;
      }
      word += ch;
      continue;
    }
    // in quote
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = chars[pos]!;
    }
    word += ch;
  }
  return { args: '', flags };
}
