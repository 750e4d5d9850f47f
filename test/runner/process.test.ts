import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureWorkdir, RunnerError, resolveUser } from '../../src/runner/index.js';
import { type Fixture, listTree, makeFixture, sh } from './fixture.js';

let fx: Fixture;
fx = makeFixture();
afterAll(() => fx.cleanup());

describe('the process: user, workdir, env, exit codes, output', () => {
  it.each([
    // What dockerd 20.10's BuildKit prints for the same users (checked): memberships by name only.
    ['app', 'uid=1000(app) gid=1000(app) groups=50(staff)'],
    ['app:staff', 'uid=1000(app) gid=50(staff)'],
    ['1000', 'uid=1000(app) gid=1000(app) groups=50(staff)'],
    ['4242', 'uid=4242 gid=0(root)'],
    ['4242:4343', 'uid=4242 gid=4343'],
    ['nobody', 'uid=65534(nobody) gid=65534(nogroup)'],
    ['', 'uid=0(root) gid=0(root)'],
  ])('USER %j resolves from /etc/passwd and /etc/group', async (user, id) => {
    const r = await sh(fx, 'id', { process: { args: ['/bin/sh', '-c', 'id'], user } });
    expect(r.stdout.trim()).toBe(id);
  });

  it('an unknown user or group is a clear error', async () => {
    await expect(sh(fx, 'id', { process: { args: ['id'], user: 'ghost' } })).rejects.toMatchObject({
      code: 'RUNNER_UNKNOWN_USER',
      message: expect.stringContaining('ghost'),
    });
    expect(() => resolveUser(fx.lower, 'app:nogrp')).toThrow(RunnerError);
  });

  it('HOME comes from passwd and PATH defaults when the image has none', async () => {
    const r = await sh(fx, 'echo $HOME; echo $PATH; echo $FOO', {
      process: {
        args: ['/bin/sh', '-c', 'echo $HOME; echo $PATH; echo $FOO'],
        user: 'app',
        env: ['FOO=bar baz'],
      },
    });
    expect(r.stdout).toBe(
      '/home/app\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nbar baz\n',
    );
    const p = await sh(fx, '', {
      process: { args: ['/bin/sh', '-c', 'echo $PATH'], env: ['PATH=/bin:/opt'] },
    });
    expect(p.stdout).toBe('/bin:/opt\n');
  });

  it('the working directory is created when missing, root-owned, and is the cwd', async () => {
    const r = await sh(fx, '', {
      process: { args: ['/bin/sh', '-c', 'pwd; touch f'], cwd: '/srv/app', user: 'app' },
    });
    expect(r.stdout).toBe('/srv/app\n');
    expect(statSync(join(r.upper, 'srv/app')).uid).toBe(0);
  });

  it('ensureWorkdir creates missing dirs owned by the user, keeps existing ones, stays in the root', () => {
    const layer = fx.layer();
    // operate on a plain dir tree (the solver passes a mounted rootfs)
    const root = layer.upper;
    ensureWorkdir(root, '/tmp', { uid: 0, gid: 0 });
    const p = ensureWorkdir(root, 'a/b', { uid: 1000, gid: 50 }, '/home');
    expect(p).toBe('/home/a/b');
    expect(statSync(join(root, 'home/a/b')).uid).toBe(1000);
    expect(statSync(join(root, 'home/a')).gid).toBe(50);
    expect(statSync(join(root, 'home/a/b')).mode & 0o7777).toBe(0o755);
    expect(ensureWorkdir(root, '../../../escape')).toBe('/escape');
    expect(listTree(root)).toContain('escape');
  });

  it('exit codes pass through', async () => {
    for (const code of [0, 1, 3, 127, 255]) {
      const r = await sh(fx, `exit ${code}`);
      expect(r.exitCode).toBe(code);
      expect(r.startFailed).toBeUndefined();
      expect(r.oomKilled).toBe(false);
    }
    // a process that cannot start: the shell's codes, and runc's error made readable
    const missing = await sh(fx, '', { process: { args: ['nonexistent-cmd'] } });
    expect(missing.exitCode).toBe(127);
    expect(missing.startFailed).toBe(true);
    expect(missing.stderr).toBe(
      'runc run failed: unable to start container process: exec: "nonexistent-cmd": executable file not found in $PATH\n',
    );
    const noexec = await sh(fx, '', { process: { args: ['/etc/passwd'] } });
    expect(noexec.exitCode).toBe(126);
  });

  it('stdout and stderr arrive complete and each in order; the tail keeps the last lines', async () => {
    const r = await sh(fx, 'i=0; while [ $i -lt 2000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done');
    const out = r.stdout.trim().split('\n');
    const err = r.stderr.trim().split('\n');
    expect(out).toEqual(Array.from({ length: 2000 }, (_, i) => `out${i}`));
    expect(err).toEqual(Array.from({ length: 2000 }, (_, i) => `err${i}`));
    expect(r.outputTail).toHaveLength(20);
    expect(r.outputTail.join('\n')).toMatch(/1999/);
  });

  it('large output streams without loss', async () => {
    const r = await sh(fx, 'head -c 20000000 /dev/zero | tr "\\0" "x"');
    expect(r.stdout.length).toBe(20_000_000);
  });
});
