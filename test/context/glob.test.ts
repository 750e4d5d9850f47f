import { describe, expect, it } from 'vitest';
import { globToRegExp, hasWildcard, isBadGlob } from '../../src/context/index.js';

// Expectations from Go's path.Match (the matcher of BuildKit's COPY wildcards), case by case.
const CASES: [pattern: string, name: string, match: boolean][] = [
  ['my-*.txt', 'my-a.txt', true],
  ['*-linux-amd64', 'tool-linux-amd64', true],
  ['a?b', 'a-b', true],
  ['a?b', 'a/b', false],
  ['*', 'a/b', false],
  ['*/b', 'a/b', true],
  ['x[a-c]', 'xb', true],
  ['x[a-c]', 'xd', false],
  ['[^a]', 'b', true],
  ['[^a]', 'a', false],
  ['[!a]', '!', true],
  ['[z-a]', 'm', false],
  ['[^z-a]', 'm', true],
  ['[\\]]', ']', true],
  ['[a\\-z]', '-', true],
  ['[a\\-z]', 'm', false],
  ['[/]', '/', true],
  ['a\\*', 'a*', true],
  ['a\\*', 'ab', false],
  ['x.y', 'xzy', false],
  ['(a|b)+{1}$^', '(a|b)+{1}$^', true],
  ['?x', '\uDCFFx', true],
  ['é?', 'éé', true],
];

describe("COPY wildcards: Go's path.Match", () => {
  it.each(CASES)('%s against %s', (pattern, name, match) => {
    expect(globToRegExp(pattern).test(name)).toBe(match);
  });

  it('a malformed pattern matches nothing and is told apart (Go: ErrBadPattern)', () => {
    for (const p of ['[ab', '[]a]', '[-a]', '[a-]', 'a\\', '[', '[^]']) {
      expect(isBadGlob(p), p).toBe(true);
      expect(globToRegExp(p).test(p), p).toBe(false);
    }
    for (const p of ['a*', '[a]', '[z-a]', 'a\\\\']) expect(isBadGlob(p), p).toBe(false);
  });

  it('a backslash is no wildcard, it only escapes the next character', () => {
    expect(hasWildcard('back\\slash')).toBe(false);
    expect(hasWildcard('a\\*')).toBe(false);
    expect(hasWildcard('a\\**')).toBe(true);
    expect(hasWildcard('[x')).toBe(true);
  });
});
