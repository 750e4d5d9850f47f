import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../src/parser/durations.js';

// Go's time.ParseDuration, which HEALTHCHECK's flags go through in BuildKit's frontend.
describe('parseGoDuration', () => {
  it.each([
    ['0', 0],
    ['300ms', 300e6],
    ['1.5h', 1.5 * 3600e9],
    ['-2m3s', -123e9],
    ['7ns', 7],
    ['5us', 5e3],
    ['5\u00b5s', 5e3], // micro sign
    ['5\u03bcs', 5e3], // Greek mu
    ['1h2m3.5s', 3723.5e9],
  ])('%s is %d ns', (text, ns) => {
    expect(parseGoDuration(text)).toBe(ns);
  });

  it.each(['', '5', 's', '.s', '1d', '5 s', '--1s'])('%j is not a duration', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});
