/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell words, not templates */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DockerfileSyntaxError } from '../../src/errors.js';
import { expandWord, expandWords, lookupFrom, toStages } from '../../src/parser/index.js';

/**
 * Random and mutated Dockerfiles: the parser either returns or throws a DockerfileSyntaxError with a
 * sane range, never anything else, and never takes long (each input is timed).
 */
const SEEDS = [
  'FROM alpine AS build\nRUN echo hi\n',
  '# syntax=docker/dockerfile:1\n# escape=`\nFROM scratch\nCOPY a b\n',
  'ARG V=1\nFROM img:$V\nRUN --mount=type=cache,target=/c,id=x ls\n',
  'FROM a\nRUN <<EOF\necho $x\nEOF\nCOPY <<-"X" /f\n\tcontent\n\tX\n',
  'FROM a\nENV a=b c="d e" f\\ g=h\nLABEL "k"="v" k2=v2\n',
  'FROM a\nHEALTHCHECK --interval=1s --retries=2 CMD ["true"]\nONBUILD RUN x\n',
  'FROM a\nCMD ["a", "b"]\nENTRYPOINT exec x\nSHELL ["sh","-c"]\n',
  'FROM a\nRUN echo a \\\n  # c\n\n  b\nEXPOSE 80/tcp\nVOLUME ["/v"]\n',
];
const PIECES = [
  'FROM',
  'RUN',
  'COPY',
  'ADD',
  'ENV',
  'ARG',
  'LABEL',
  'CMD',
  'ONBUILD',
  'HEALTHCHECK',
  'SHELL',
  'from',
  '--mount=',
  '--from=',
  '--chmod=',
  'type=secret',
  ',',
  '=',
  '"',
  "'",
  '\\',
  '`',
  '$',
  '${',
  '}',
  ':-',
  '<<',
  '<<-',
  'EOF',
  '\n',
  '\r\n',
  ' ',
  '\t',
  '#',
  '# escape=`',
  '# check=error=true',
  '[',
  ']',
  '["a"]',
  '[1]',
  'AS',
  'NONE',
  '--',
  '\\\n',
  '\u00a0',
  '\ufeff',
  'é',
  '0',
  '3<<',
];

function parseBounded(text: string): void {
  const t0 = performance.now();
  try {
    toStages(text);
  } catch (e) {
    if (!(e instanceof DockerfileSyntaxError)) throw e;
    const { start, end } = e.range;
    expect(start.line).toBeGreaterThanOrEqual(1);
    expect(start.column).toBeGreaterThanOrEqual(1);
    expect(end.line).toBeGreaterThanOrEqual(start.line);
  }
  // Far above the ~0.1 ms a parse takes: this catches hangs and blow-ups, not a busy machine.
  expect(performance.now() - t0).toBeLessThan(2000);
}

const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(
      fc.tuple(fc.nat(), fc.nat(3), fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 4 }))),
      {
        maxLength: 8,
      },
    ),
  )
  .map(([seed, edits]) => {
    let s = seed;
    for (const [pos, len, ins] of edits) {
      const p = pos % (s.length + 1);
      s = s.slice(0, p) + ins + s.slice(p + len);
    }
    return s;
  });

describe('parser fuzz', () => {
  it('random text never throws anything but DockerfileSyntaxError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300, unit: 'binary' }), parseBounded), { numRuns: 1500 });
  });

  it('random token soup never throws anything but DockerfileSyntaxError', () => {
    const soup = fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }).map((a) => a.join(''));
    fc.assert(fc.property(soup, parseBounded), { numRuns: 2000 });
  });

  it('mutated real Dockerfiles never throw anything but DockerfileSyntaxError', () => {
    fc.assert(fc.property(mutated, parseBounded), { numRuns: 3000 });
  });

  it('the lexer only ever throws DockerfileSyntaxError', () => {
    const lookup = lookupFrom({ A: 'a b', E: '', P: '/x/y.z' });
    const word = fc.array(
      fc.constantFrom(...PIECES, 'A', 'E', 'P', '#', '%', '/', '//', '*', '?', '+', '-'),
      {
        maxLength: 30,
      },
    );
    fc.assert(
      fc.property(word, (parts) => {
        const w = parts.join('');
        for (const fn of [expandWord, expandWords]) {
          try {
            fn(w, lookup);
          } catch (e) {
            if (!(e instanceof DockerfileSyntaxError)) throw e;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('hostile inputs stay fast', () => {
  const cases: [string, string][] = [
    ['a long run of carriage returns', `FROM a\nRUN x${'\r'.repeat(200_000)}y\n`],
    ['a directive with a long run of blanks', `# escape=${' '.repeat(200_000)}x\nFROM a\n`],
    ['a 5 MB RUN line', `FROM a\nRUN ${'echo x && '.repeat(500_000)}true\n`],
    ['100k instructions', `FROM a\n${'RUN echo hi\n'.repeat(100_000)}`],
    ['100k continuation lines', `FROM a\nRUN echo \\\n${'  x \\\n'.repeat(100_000)}  end\n`],
    ['a deep ${ nesting', `FROM a\nENV A=${'${B:-'.repeat(5_000)}x${'}'.repeat(5_000)}\n`],
    ['many heredocs on one line', `FROM a\nRUN ${'<<E '.repeat(2_000)}\n${'E\n'.repeat(2_000)}`],
    ['a long flag list', `FROM a\nCOPY ${'--exclude=x '.repeat(50_000)}a b\n`],
    ['a huge JSON array', `FROM a\nCMD [${Array(100_000).fill('"x"').join(',')}]\n`],
  ];
  it.each(cases)('%s', (_name, text) => {
    const t0 = performance.now();
    try {
      toStages(text);
    } catch (e) {
      if (!(e instanceof DockerfileSyntaxError)) throw e;
    }
    // Generous: the machine is shared; a quadratic or exponential path would take minutes, not seconds.
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('pattern operators are linear, not backtracking', () => {
    const value = 'a'.repeat(3_000);
    const t0 = performance.now();
    const lookup = lookupFrom({ V: value });
    expect(expandWord('${V//*a*a*a*a*a*a*b/}', lookup)).toBe(value);
    expect(expandWord('${V##*a*a*a*a*b}', lookup)).toBe(value);
    expect(expandWord('${V%%a*a*a*a*b}', lookup)).toBe(value);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
