/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell words, not templates */
import { describe, expect, it } from 'vitest';
import { DockerfileSyntaxError } from '../../src/errors.js';
import { expandWord, expandWords, lookupFrom, processWordWithMatches } from '../../src/parser/index.js';
import {
  BACKTICK_CASES,
  ENVVAR_CASES,
  ENVVAR_ENV,
  LEXER_ENV,
  OPTION_CASES,
  WORD_CASES,
  WORDS_CASES,
  WORDSTEST_CASES,
  WORDSTEST_ENV,
} from './lexer-cases.js';

const lookup = lookupFrom(LEXER_ENV);

function check<T>(fn: () => T, expected: T | { error: RegExp }) {
  if (expected !== null && typeof expected === 'object' && 'error' in expected) {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DockerfileSyntaxError);
    expect((err as Error).message).toMatch(expected.error);
  } else {
    expect(fn()).toEqual(expected);
  }
}

describe('shell lexer: ProcessWord', () => {
  it.each(WORD_CASES)('%j', (input, expected) => check(() => expandWord(input, lookup), expected));
});

describe('shell lexer: ProcessWords', () => {
  it.each(WORDS_CASES)('%j', (input, expected) => check(() => expandWords(input, lookup), expected));
});

describe('shell lexer: backtick escape', () => {
  it.each(BACKTICK_CASES)('%j', (input, expected) =>
    check(() => expandWord(input, lookup, { escapeToken: '`' }), expected),
  );
});

describe('shell lexer: options', () => {
  it.each(OPTION_CASES)('%j %j', (input, opts, expected) =>
    check(() => expandWord(input, lookup, opts), expected),
  );
});

describe('shell lexer: BuildKit envVarTest semantics', () => {
  it.each(ENVVAR_CASES)('%j', (input, expected) =>
    check(() => expandWord(input, lookupFrom(ENVVAR_ENV)), expected),
  );
});

describe('shell lexer: BuildKit wordsTest semantics', () => {
  it.each(WORDSTEST_CASES)('%j', (input, expected) =>
    check(() => expandWords(input, lookupFrom(WORDSTEST_ENV)), expected),
  );
});

describe('shell lexer: matches', () => {
  it('reports set and unset variables it met', () => {
    const r = processWordWithMatches('$PWD ${UNSET:-x} "$EMPTY" ${NOPE+y}', lookup);
    expect([...r.matched].sort()).toEqual(['EMPTY', 'PWD']);
    expect([...r.unmatched].sort()).toEqual(['NOPE', 'UNSET']);
  });

  it('puts the range given by the caller on errors', () => {
    const range = { start: { line: 7, column: 3 }, end: { line: 7, column: 20 } };
    try {
      expandWord('${X:?gone}', lookup, { range });
      expect.unreachable();
    } catch (e) {
      expect((e as DockerfileSyntaxError).range).toEqual(range);
      expect((e as Error).message).toBe('failed to process "${X:?gone}": X: gone');
    }
  });

  it('has at least 150 table cases', () => {
    expect(
      WORD_CASES.length + WORDS_CASES.length + BACKTICK_CASES.length + OPTION_CASES.length,
    ).toBeGreaterThanOrEqual(150);
  });
});
