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
  const r = scanWords(line, { esc: '\\', keep: false, flagsOnly: true });
  return { args: r.rest === undefined ? '' : line.slice(r.rest), flags: r.words };
}

export interface ScanWordsOptions {
  /** the escape character (`\` or the `# escape=` directive's) */
  esc: string;
  /** keep quotes and escapes in the words (parseWords) or process them (extractBuilderFlags) */
  keep: boolean;
  /** stop before the first word that does not start with `--`, or after a bare `--` */
  flagsOnly?: boolean;
}

/**
 * BuildKit's word scanner, shared by parseWords (line_parsers.go) and extractBuilderFlags: words
 * split on Go spaces, quotes group (an empty quoted word counts), the escape takes the next char
 * (not inside single quotes when quotes are kept). `rest`: where flagsOnly stopped, in code units
 * (quotes, escapes and spaces are never half of a surrogate pair, so no Array.from on big lines).
 */
export function scanWords(s: string, o: ScanWordsOptions): { words: string[]; rest?: number } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= s.length; pos++) {
    const end = pos === s.length;
    let ch = end ? '' : s[pos]!;
    if (phase === 'spaces') {
      if (end) break;
      if (isGoSpace(ch)) continue;
      if (o.flagsOnly && !(ch === '-' && s[pos + 1] === '-')) return { words, rest: pos };
      phase = 'word';
    }
    if (end) {
      if ((blankOK || word.length > 0) && !(o.flagsOnly && word === '--')) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (o.flagsOnly && word === '--') return { words, rest: pos };
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        if (!o.keep) continue;
      }
      if (ch === o.esc) {
        if (pos + 1 === s.length) continue;
        if (o.keep) word += ch;
        pos++;
        ch = s[pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      if (!o.keep) continue;
    }
    if (ch === o.esc && !(o.keep && quote === "'")) {
      if (pos + 1 === s.length) {
        phase = 'word';
        continue;
      }
      pos++;
      if (o.keep) word += ch;
      ch = s[pos]!;
    }
    word += ch;
  }
  return { words };
}
