import { DockerfileSyntaxError, type SourceRange, UNLOCATED } from '../errors.js';
import { ShellPatternError } from './shell-pattern.js';
import { LexError, ShellWord } from './shell-word.js';
import type { EscapeToken } from './types.js';
import { isGoSpace } from './word-list.js';

export { isGoSpace } from './word-list.js';

/**
 * BuildKit's shell word lexer (frontend/dockerfile/shell/lex.go), behaviour for behaviour: quotes,
 * escapes, `$v`, `${v}`, `${v:-w}`, `${v-w}`, `${v:+w}`, `${v+w}`, `${v:?m}`, `${v?m}`, `${v#p}`,
 * `${v##p}`, `${v%p}`, `${v%%p}`, `${v/p/r}`, `${v//p/r}`. Words are split on whitespace AFTER expansion,
 * but only whitespace that came from unquoted text or an unquoted `$` expansion splits.
 */

/** Returns a variable's value, or undefined when it is unset (empty string = set but empty). */
export type EnvLookup = (name: string) => string | undefined;

export interface LexOptions {
  escapeToken?: EscapeToken;
  /** Leave `$unset` references as written instead of expanding them to ''. */
  skipUnsetEnv?: boolean;
  /** Do not treat quotes specially (they stay, nothing is unquoted). */
  skipProcessQuotes?: boolean;
  /** Keep quote characters in the result (still honouring their meaning). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Where the word is, for errors (`${v:?msg}`, bad substitution). */
  range?: SourceRange;
}

export interface WordResult {
  result: string;
  words: string[];
  /** Variables that were referenced and set. */
  matched: Set<string>;
  /** Variables that were referenced and unset. */
  unmatched: Set<string>;
}

const PLAIN = { '\\': /^[^$'"\\]*$/, '`': /^[^$'"`]*$/ };

/** Without `$`, quotes or the escape char a word is its own result: only whitespace splits it. */
function plain(word: string): WordResult {
  const words: string[] = [];
  let cur = '';
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    if (isGoSpace(ch)) {
      if (cur !== '') words.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') words.push(cur);
  return { result: word, words, matched: NO_VARS, unmatched: NO_VARS };
}

/** Shared by results that met no variable; callers must not mutate it. */
const NO_VARS: Set<string> = new Set();

function run(word: string, lookup: EnvLookup, opts: LexOptions, track = false): WordResult {
  if (PLAIN[opts.escapeToken ?? '\\'].test(word)) {
    return track ? { ...plain(word), matched: new Set(), unmatched: new Set() } : plain(word);
  }
  const sw = new ShellWord(word, lookup, opts, opts.escapeToken ?? '\\');
  if (track) {
    sw.matched = new Set();
    sw.unmatched = new Set();
  }
  try {
    const { result, words } = sw.processStopOn([], opts.rawEscapes ?? false);
    return { result, words, matched: sw.matched ?? NO_VARS, unmatched: sw.unmatched ?? NO_VARS };
  } catch (e) {
    if (e instanceof LexError || e instanceof ShellPatternError) {
      const range = opts.range ?? UNLOCATED;
      const shown = word.length > 120 ? `${word.slice(0, 100)}…` : word;
      throw new DockerfileSyntaxError(`failed to process ${JSON.stringify(shown)}: ${e.message}`, range);
    }
    throw e;
  }
}

/** BuildKit's ProcessWord: one word in, one string out (spaces kept). Throws DockerfileSyntaxError. */
export function expandWord(word: string, lookup: EnvLookup, opts: LexOptions = {}): string {
  return run(word, lookup, opts).result;
}

/** BuildKit's ProcessWords: split into words after expansion (for EXPOSE, VOLUME, heredoc names …). */
export function expandWords(word: string, lookup: EnvLookup, opts: LexOptions = {}): string[] {
  return run(word, lookup, opts).words;
}

/** BuildKit's ProcessWordWithMatches: the result plus which variables were used and which were unset. */
export function processWordWithMatches(word: string, lookup: EnvLookup, opts: LexOptions = {}): WordResult {
  return run(word, lookup, opts, true);
}

/** A lookup over a Map or a plain record. */
export function lookupFrom(env: Map<string, string> | Record<string, string>): EnvLookup {
  if (env instanceof Map) return (n) => env.get(n);
  return (n) => (Object.hasOwn(env, n) ? env[n] : undefined);
}
