import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DockerfileSyntaxError } from '../../src/errors.js';
import { toStages } from '../../src/parser/index.js';

/**
 * Golden tests: each fixtures/<case>/Dockerfile is parsed to stages; the result (the `tsbuild parse
 * --json` document) or the error (message + range) must equal fixtures/<case>/expected.json.
 * `UPDATE_GOLDEN=1 npx vitest run test/parser/golden.test.ts` rewrites them (review the diff!).
 */
const dir = join(import.meta.dirname, 'fixtures');
const cases = readdirSync(dir).sort();

function outcome(text: string): unknown {
  try {
    const { value, warnings } = toStages(text);
    return { version: 1, ...value, warnings };
  } catch (e) {
    if (!(e instanceof DockerfileSyntaxError)) throw e;
    return { error: { message: e.message, range: e.range } };
  }
}

describe('parser golden fixtures', () => {
  it('has fixtures for the rules, errors included', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(cases.filter((c) => c.startsWith('error-')).length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('%s', (name) => {
    const text = readFileSync(join(dir, name, 'Dockerfile'), 'utf8');
    const expectedPath = join(dir, name, 'expected.json');
    const got = JSON.parse(JSON.stringify(outcome(text)));
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(expectedPath, `${JSON.stringify(got, null, 2)}\n`);
    }
    const expected = JSON.parse(readFileSync(expectedPath, 'utf8'));
    expect(got).toEqual(expected);
    // Negative cases are named error-*: they must fail, and only they.
    expect('error' in got).toBe(name.startsWith('error-'));
  });
});
