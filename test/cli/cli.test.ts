import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

  it('prints the version as oclif does (name/version platform-arch node-version)', () => {
    const { version } = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'),
    );
    const want = `tsbuild/${version} ${process.platform}-${process.arch} node-${process.version}\n`;
    for (const flag of ['--version', '-v']) expect(run(flag)).toMatchObject({ status: 0, stdout: want });
    // after the global flags too, as docker takes `docker --config DIR --version`
    expect(run('--root', '/nonexistent', '--version')).toMatchObject({ status: 0, stdout: want });
    expect(run('--debug', '-v')).toMatchObject({ status: 0, stdout: want });
    expect(run('--root', '/nonexistent', '--help').stdout).toContain('COMMANDS');
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

  // oclif trims the first row of a flag list, so a list opening with a flag without a short
  // letter, followed by flags with one, came out ragged; each section's names must line up.
  it("lines up every command's flag names in its help", () => {
    const commands = readdirSync(join(import.meta.dirname, '..', '..', 'src', 'cli', 'commands'));
    expect(commands.length).toBeGreaterThan(10);
    for (const file of commands) {
      const help = run(file.replace(/\.ts$/, ''), '--help').stdout;
      for (const section of help.split(/\n(?=[A-Z ]+\n)/).filter((s) => /^[A-Z ]*FLAGS\n/.test(s))) {
        const columns = section
          .split('\n')
          .flatMap((l) => (/^ {2}(-\w, | {4})?--/.test(l) ? [l.indexOf('--')] : []));
        expect(columns.length, `${file}: ${section}`).toBeGreaterThan(0);
        expect(new Set(columns).size, `${file}: ${section}`).toBe(1);
      }
    }
  });

  it('exits 2 on an unknown flag, without a stack trace', () => {
    const r = run('build', '--no-such-flag');
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
