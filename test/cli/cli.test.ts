import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  it('takes --root and --debug before the command, as docker takes its global flags', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-cli-'));
    try {
      for (const args of [
        ['--root', root, 'images'],
        [`--root=${root}`, '--debug', 'images'],
      ]) {
        const r = run(...args);
        expect(r.stderr).toBe('');
        expect([r.status, r.stdout]).toEqual([0, expect.stringMatching(/^REPOSITORY +TAG +IMAGE ID/)]);
      }
      // Not followed by a command: a build of that context, as without the flags.
      const b = run('--root', root, join(root, 'nowhere'));
      expect(b.status).toBe(1);
      expect(b.stderr).toMatch(/nowhere/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('exits 2 on an unknown flag, without a stack trace', () => {
    const r = run('build', '--no-such-flag');
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
