import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLASSIC_FLAG_NAMES, classicFlagsGiven } from '../../src/cli/build-extras.js';
import { classicFlags, goBooleans } from '../../src/cli/docker-compat.js';
import { requireRoot } from '../helpers/require.js';

requireRoot();

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const flags = {
  pull: { type: 'boolean' },
  rm: { type: 'boolean', allowNo: true },
  tag: { type: 'option', char: 't' },
  human: { type: 'boolean', char: 'H', allowNo: true },
};

describe("docker build's spellings", () => {
  it("Go's booleans: --x=true is --x, --x=false is --no-x or nothing; other values refused", () => {
    expect(goBooleans(['--pull=true', '--rm=false', '--tag=a=b', '.'], flags)).toEqual([
      '--pull',
      '--no-rm',
      '--tag=a=b',
      '.',
    ]);
    expect(goBooleans(['--pull=false', '--pull=1', '--pull=F', '--rm=True'], flags)).toEqual([
      '--pull',
      '--rm',
    ]);
    // after `--` nothing is a flag; an unknown flag is oclif's to refuse
    expect(goBooleans(['--', '--pull=maybe'], flags)).toEqual(['--', '--pull=maybe']);
    expect(goBooleans(['--nope=true'], flags)).toEqual(['--nope=true']);
    expect(() => goBooleans(['--pull=maybe'], flags)).toThrow('invalid argument "maybe" for "--pull" flag');
    // a short letter too (pflag's -H=false); a short option's value is left alone
    expect(goBooleans(['-H=false', '-H=true', '-t=x'], flags)).toEqual(['--no-human', '--human', '-t=x']);
  });

  it('the classic builder flags given are named for the warning', () => {
    expect(CLASSIC_FLAG_NAMES).toEqual(Object.keys(classicFlags));
    expect(
      classicFlagsGiven({
        'cpu-shares': '512',
        'security-opt': ['seccomp=unconfined', 'no-new-privileges'],
        squash: true,
        compress: false,
        'disable-content-trust': false,
      }),
    ).toEqual([
      '--cpu-shares 512',
      '--security-opt seccomp=unconfined',
      '--security-opt no-new-privileges',
      '--squash',
    ]);
  });

  it('CLI: a docker build command line runs unchanged, the ignored flags warned about', () => {
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-compat-ctx-'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY f /f\n');
    writeFileSync(join(ctx, 'f'), 'f\n');
    const root = mkdtempSync(join(tmpdir(), 'tsb-compat-root-'));
    const args = ['--root', root, '--progress', 'plain', '--pull=false', '--no-cache=true', '--rm=true'];
    const classic = ['--cpuset-cpus', '0', '--memory-swap', '1g', '--squash', '--disable-content-trust=true'];
    const r = spawnSync('node', [bin, 'build', ...args, ...classic, '-t', 'compat', ctx], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('WARNING: --cpuset-cpus 0: not supported, ignored; a classic builder flag');
    expect(r.stderr).toContain('WARNING: --squash: not supported');
    expect(r.stderr).not.toContain('disable-content-trust');
    // --no-cache=true is --no-cache: the COPY runs again, where a plain rebuild finds it
    const again = spawnSync('node', [bin, 'build', ...args, ctx], { encoding: 'utf8' });
    expect(again.stderr).toMatch(/COPY f \/f\n#\d+ DONE/);
    const cached = spawnSync(
      'node',
      [bin, 'build', '--root', root, '--progress', 'plain', '--no-cache=false', ctx],
      {
        encoding: 'utf8',
      },
    );
    expect(cached.stderr).toMatch(/COPY f \/f\n#\d+ CACHED/);
    const bad = spawnSync('node', [bin, 'build', '--root', root, '--pull=maybe', ctx], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('invalid argument "maybe" for "--pull" flag');
  });
});
