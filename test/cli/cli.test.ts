import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const run = (...args: string[]) => spawnSync('node', [bin, ...args], { encoding: 'utf8' });

describe('cli', () => {
  it('prints help listing the build command', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/build/);
  });

  it('treats a leading flag as the build command', () => {
    const r = run('build', '--help');
    const d = run('-t', 'x', '--help');
    expect(d.status).toBe(0);
    expect(d.stdout).toBe(r.stdout);
  });

  it('exits 2 on an unknown flag, without a stack trace', () => {
    const r = run('build', '--no-such-flag');
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
