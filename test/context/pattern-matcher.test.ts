import { describe, expect, it } from 'vitest';
import { PatternMatcher } from '../../src/context/pattern-matcher.js';

// moby/patternmatcher's own tables (matching, parent results, cleaning, compiling) are ported
// verbatim in patternmatcher-upstream.test.ts; here only what those tables do not pin down.
describe('PatternMatcher (moby/patternmatcher semantics)', () => {
  it('cleans a pattern as Go path.Clean does, dot-dot and trailing slash included', () => {
    expect(new PatternMatcher(['./a/../b/']).patterns[0]?.cleaned).toBe('b');
  });

  it("refuses a lone ! with moby's words", () => {
    expect(() => new PatternMatcher(['!'])).toThrow(/illegal exclusion pattern: "!"/);
  });
});
