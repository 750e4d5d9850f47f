import type { SourceRange } from '../errors.js';
import type { EscapeToken } from './types.js';

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

/** BuildKit's ProcessWord: one word in, one string out (spaces kept). */
export function expandWord(_word: string, _lookup: EnvLookup, _opts: LexOptions = {}): string {
  throw new Error('not implemented yet');
}

/** BuildKit's ProcessWords: split into words after expansion (for EXPOSE, VOLUME, …). */
export function expandWords(_word: string, _lookup: EnvLookup, _opts: LexOptions = {}): string[] {
  throw new Error('not implemented yet');
}

/** BuildKit's ProcessWordWithMatches. */
export function processWordWithMatches(
  _word: string,
  _lookup: EnvLookup,
  _opts: LexOptions = {},
): WordResult {
  throw new Error('not implemented yet');
}
