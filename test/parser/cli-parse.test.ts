import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Runs the compiled CLI (`npm test` compiles first), like a user would.
const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const fixtures = join(import.meta.dirname, 'fixtures');
const run = (args: string[], input?: string) =>
  spawnSync('node', [bin, 'parse', ...args], { encoding: 'utf8', input });

describe('tsbuild parse', () => {
  it('--json prints the documented document, equal to the golden fixture', () => {
    const r = run(['-f', join(fixtures, 'multi-stage', 'Dockerfile'), '--json']);
    expect(r.status).toBe(0);
    const expected = JSON.parse(readFileSync(join(fixtures, 'multi-stage', 'expected.json'), 'utf8'));
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('prints stages and instructions with line numbers, warnings on stderr', () => {
    const r = run(['-f', '-'], 'FROM alpine AS Build\nRUN echo hi\nFROM scratch\nCOPY --from=build /a /a\n');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/stage 0 "build": from alpine/);
    expect(r.stdout).toMatch(/ {3}2 {4}RUN echo hi/);
    expect(r.stdout).toMatch(/stage 1: from scratch/);
    expect(r.stderr).toMatch(/warning: <stdin>:1: StageNameCasing: Stage name 'Build' should be lowercase/);
  });

  it('a syntax error exits 1 with the marked Dockerfile excerpt and no stack trace', () => {
    const r = run(['-f', '-'], 'FROM alpine\nRUN ok\nCOPPY a b\nRUN after\n');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: <stdin>:3:1: unknown instruction: COPPY \(did you mean COPY\?\)/);
    expect(r.stderr).toMatch(/> 3 \| COPPY a b\n {4}\| \^/);
    expect(r.stderr).toMatch(/ {2}2 \| RUN ok/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a multi-line error marks every line of the range', () => {
    const r = run(['-f', '-'], 'FROM alpine\nRUN <<EOF\necho never ends\n');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unterminated heredoc/);
    expect(r.stderr).toMatch(/> 2 \| RUN <<EOF/);
    expect(r.stderr).toMatch(/> 3 \| echo never ends/);
  });

  it('a missing file exits 1 with a hint', () => {
    const r = run(['-f', '/nonexistent/Dockerfile']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read \/nonexistent\/Dockerfile: no such file or directory/);
  });

  it('an unknown flag is a usage error (exit 2)', () => {
    expect(run(['--bogus']).status).toBe(2);
  });

  it('--debug shows the stack', () => {
    const r = run(['-f', '-', '--debug'], 'RUN x\n');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no build stage in current context/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('error excerpt of a long range', () => {
  it('shows the ends of the range and how many lines it left out', () => {
    const body = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n');
    const r = run(['-f', '-'], `FROM a\nRUN <<EOF\n${body}\n`);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/> {2}2 \| RUN <<EOF/);
    expect(r.stderr).toMatch(/\| \.\.\. 33 more lines \.\.\./);
    expect(r.stderr).toMatch(/> 42 \| line 40/);
    expect(r.stderr.split('\n').length).toBeLessThan(20);
  });
});

describe('a binary file given as the Dockerfile', () => {
  it('fails with a short, printable error', () => {
    const garbage = `\u007fELF\u0002\u0001\u0000\u0000${'\u0000\u0003x'.repeat(200)}\nmore\u0007junk\n`;
    const r = run(['-f', '-'], garbage);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown instruction: "\\u007fELF/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting no control characters reach the terminal
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(Math.max(...r.stderr.split('\n').map((l) => l.length))).toBeLessThan(260);
  });
});

describe('default Dockerfile', () => {
  it('reads ./Dockerfile, or ./Containerfile when only that exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsb-parse-'));
    try {
      writeFileSync(join(dir, 'Containerfile'), 'FROM from-containerfile\n');
      const inDir = () => spawnSync('node', [bin, 'parse'], { encoding: 'utf8', cwd: dir });
      expect(inDir().stdout).toMatch(/from from-containerfile/);
      writeFileSync(join(dir, 'Dockerfile'), 'FROM from-dockerfile\n');
      expect(inDir().stdout).toMatch(/from from-dockerfile/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
