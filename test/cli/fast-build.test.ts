import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from '@oclif/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BaseCommand } from '../../src/cli/base-command.js';
import Build from '../../src/cli/commands/build.js';
import { FAST_FLAGS, parseBuildArgv } from '../../src/cli/fast-build.js';

const allFlags = { ...BaseCommand.baseFlags, ...Build.flags } as Record<string, Record<string, unknown>>;

async function oclifParse(argv: string[], env: NodeJS.ProcessEnv) {
  const saved = process.env.TSBUILD_ROOT;
  if (env.TSBUILD_ROOT === undefined) delete process.env.TSBUILD_ROOT;
  else process.env.TSBUILD_ROOT = env.TSBUILD_ROOT;
  try {
    const r = await Parser.parse(argv, { flags: allFlags as never, args: Build.args, strict: true });
    const flags = Object.fromEntries(Object.entries(r.flags).filter(([, v]) => v !== undefined));
    return { context: r.args.context as string, flags };
  } finally {
    if (saved === undefined) delete process.env.TSBUILD_ROOT;
    else process.env.TSBUILD_ROOT = saved;
  }
}

describe('build fast path parser', () => {
  it('knows each flag exactly as Build declares it', () => {
    for (const [name, f] of Object.entries(FAST_FLAGS)) {
      const o = allFlags[name];
      expect(o, name).toBeDefined();
      expect(o?.char, name).toBe(f.char);
      expect(Boolean(o?.multiple), name).toBe(Boolean(f.multiple));
      expect(o?.options, name).toEqual(f.options);
      expect(o?.default, name).toEqual(f.default);
      expect(o?.type === 'boolean' ? 'boolean' : 'value', name).toBe(
        f.type === 'boolean' ? 'boolean' : 'value',
      );
      expect(o?.min, name).toBe(f.min);
      expect(o?.max, name).toBe(f.max);
    }
  });

  it('agrees with oclif on every command line it accepts, and gives up on the rest', async () => {
    const fixed: string[][] = [
      [],
      ['.'],
      ['-t', 'a:1', '-t', 'b', '--tag=c', 'ctx'],
      ['--progress', 'plain', '-q', '--no-cache', '--pull', '--debug', '--root', '/r', 'x'],
      ['--build-arg', 'A=1', '--label=l=2', '-f', 'D', '--target', 's', '--max-parallelism', '3'],
      ['-o', 'type=oci,dest=a.tar', '--push', '--iidfile', 'i', '--metadata-file', 'm', '--network=none'],
      ['--no-cache-filter', 'a,b', '--secret', 'id=x,src=y', '--ssh', 'default', '--platform', 'linux/amd64'],
      ['-m', '512m', '--cpu-period', '100000', '--cpu-quota=50000', '--pids-limit', '9', '--cpus', '1.5'],
      [
        '--insecure-registry',
        'r:5000',
        '--add-host',
        'a:1.2.3.4',
        '--ulimit',
        'nofile=1:2',
        '--shm-size',
        '128m',
      ],
      ['--annotation', 'a=b', '--provenance=false', '--sbom', 'false', '--cache-to', 'type=inline'],
      ['--cache-from', 'img', '--build-context', 'x=dir', '--build-context=y=docker-image://busybox'],
    ];
    for (const argv of fixed) {
      const mine = parseBuildArgv(argv, {});
      expect(mine, argv.join(' ')).toBeDefined();
      expect(mine).toEqual(await oclifParse(argv, {}));
    }
    for (const argv of [['--bogus'], ['a', 'b'], ['--progress', 'xx'], ['-t'], ['--', 'x'], ['--quiet=1']])
      expect(parseBuildArgv(argv, {}), argv.join(' ')).toBeUndefined();
    expect(parseBuildArgv(['--file', 'a', '--file', 'b'], {})).toBeUndefined();
    expect(parseBuildArgv(['--max-parallelism', '0'], {})).toBeUndefined();
    expect(parseBuildArgv(['--cpu-period', '2000000'], {})).toBeUndefined();
    expect(parseBuildArgv(['--cpu-quota', '999'], {})).toBeUndefined();
    expect(parseBuildArgv([], { TSBUILD_ROOT: '/e' })?.flags.root).toBe('/e');
  });

  it('matches oclif on random command lines', async () => {
    const token = fc.oneof(
      fc.constantFrom(
        '-t',
        '--tag',
        '-q',
        '--quiet',
        '--progress',
        'plain',
        'json',
        '--no-cache',
        '-f',
        '--file',
      ),
      fc.constantFrom(
        '--network',
        'host',
        '--max-parallelism',
        '2',
        '0',
        '--root',
        '--debug',
        '.',
        'ctx',
        '-x',
        '--cpu-period',
        '1000000',
        '1000001',
        '-m',
      ),
      fc.constantFrom(
        '--tag=a',
        '--progress=tty',
        '--label',
        'k=v',
        '--',
        '-',
        '--push',
        '--output',
        '-o',
        '',
      ),
      fc.stringMatching(/^[a-z:=./]{1,6}$/),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 7 }), fc.boolean(), async (argv, withEnv) => {
        const env = withEnv ? { TSBUILD_ROOT: '/env-root' } : {};
        const mine = parseBuildArgv(argv, env);
        if (!mine) return;
        expect(mine).toEqual(await oclifParse(argv, env));
      }),
      { numRuns: 400 },
    );
  });

  it('the CLI renders a build error the same way on both paths', () => {
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
    const fast = spawnSync('node', [bin, 'build', '/no/such/dir'], { encoding: 'utf8' });
    // `--no-rm` is not a fast-path flag: this one goes through oclif.
    const slow = spawnSync('node', [bin, 'build', '--no-rm', '/no/such/dir'], { encoding: 'utf8' });
    expect(fast.status).toBe(1);
    expect(slow.status).toBe(1);
    expect(fast.stderr).toMatch(/unable to prepare context: path "\/no\/such\/dir" not found/);
    expect(fast.stderr).toBe(slow.stderr);
  });

  it('a context that is a file or has no Dockerfile gets docker’s errors, not a stack trace', () => {
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
    const file = spawnSync('node', [bin, 'build', bin], { encoding: 'utf8' });
    expect(file.status).toBe(1);
    expect(file.stderr).toContain(`unable to prepare context: context must be a directory: ${bin}`);
    expect(file.stderr).not.toMatch(/\n\s+at /);
    const empty = spawnSync('node', [bin, 'build', mkdtempSync(join(tmpdir(), 'tsb-nodf-'))], {
      encoding: 'utf8',
    });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(
      /failed to read dockerfile: open \S+\/Dockerfile: no such file or directory/,
    );
    const dirCtx = mkdtempSync(join(tmpdir(), 'tsb-dirdf-'));
    mkdirSync(join(dirCtx, 'Dockerfile'));
    const dir = spawnSync('node', [bin, 'build', dirCtx], { encoding: 'utf8' });
    expect(dir.status).toBe(1);
    expect(dir.stderr).toContain(`failed to read dockerfile: read ${dirCtx}/Dockerfile: is a directory`);
    expect(dir.stderr).not.toMatch(/\n\s+at |EISDIR/);
  });
});
