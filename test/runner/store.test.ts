import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStepError, runStep } from '../../src/runner/index.js';
import { openStore } from '../../src/store/index.js';
import { type Fixture, listTree, makeFixture, mountsMentioning } from './fixture.js';

let fx: Fixture;
let store: Awaited<ReturnType<typeof openStore>>;
fx = makeFixture();

beforeAll(async () => {
  store = await openStore(join(fx.dir, 'store'));
  // the base: busybox written into an active snapshot's diff dir, committed
  await store.snapshots.prepare('base-active');
  execFileSync('cp', ['-a', `${fx.lower}/.`, store.snapshots.diffDir('base-active')]);
  await store.snapshots.commit('base', 'base-active');
});
afterAll(() => fx.cleanup());

describe('runStep on the store’s snapshotter', () => {
  it('two RUN steps in a chain: each committed diff holds only that step’s changes', async () => {
    expect(store.snapshots.kind).toBe('overlay');
    const out: string[] = [];
    await runStep({
      snapshotter: store.snapshots,
      key: 'run1',
      parent: 'base',
      root: fx.root,
      process: {
        args: [
          '/bin/sh',
          '-c',
          'mkdir -p /app && echo one > /app/a && echo dev:x:2000:2000::/home/dev:/bin/sh >> /etc/passwd && echo dev:x:2000: >> /etc/group && mkdir -p /home/dev && chown 2000:2000 /app',
        ],
      },
    });
    await store.snapshots.commit('l1', 'run1');
    await runStep({
      snapshotter: store.snapshots,
      key: 'run2',
      parent: 'l1',
      root: fx.root,
      process: { args: ['/bin/sh', '-c', 'id; pwd; rm /app/a; echo two > /app/b'], user: 'dev', cwd: '/app' },
      onStdout: (c) => out.push(c.toString()),
    });
    await store.snapshots.commit('l2', 'run2');
    expect(out.join('')).toBe('uid=2000(dev) gid=2000(dev)\n/app\n');
    const l1 = listTree(store.snapshots.diffDir('l1'));
    expect(l1).toEqual(expect.arrayContaining(['app', 'app/a', 'etc/passwd', 'etc/group', 'home/dev']));
    expect(l1.filter((p) => /^(proc|sys|dev)$|hosts|resolv|hostname/.test(p))).toEqual([]);
    const l2 = store.snapshots.diffDir('l2');
    expect(listTree(l2)).toEqual(['app', 'app/a', 'app/b']);
    expect(lstatSync(join(l2, 'app/a')).isCharacterDevice()).toBe(true);
    expect(readFileSync(join(l2, 'app/b'), 'utf8')).toBe('two\n');
    expect(mountsMentioning(fx.dir)).toEqual([]);
  });

  it('a failing step throws RunStepError with the tail and removes the active snapshot', async () => {
    const err = await runStep({
      snapshotter: store.snapshots,
      key: 'run-fail',
      parent: 'base',
      root: fx.root,
      process: { args: ['/bin/sh', '-c', 'echo building; echo oops >&2; exit 7'] },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RunStepError);
    expect(err.exitCode).toBe(7);
    // each stream is in order; between stdout and stderr the order is arrival order (two pipes, as in BuildKit)
    expect([...err.outputTail].sort()).toEqual(['building', 'oops']);
    expect(err.message).toContain('exit code: 7');
    expect(await store.snapshots.tryStat('run-fail')).toBeUndefined();
  });

  it("a step whose process cannot start fails with runc's status, 1, as BuildKit reports it", async () => {
    const err = await runStep({
      snapshotter: store.snapshots,
      key: 'run-nocmd',
      parent: 'base',
      root: fx.root,
      process: { args: ['nonexistent-cmd'] },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RunStepError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain('process "nonexistent-cmd" did not complete successfully: exit code: 1');
    expect(err.outputTail.join('\n')).toContain('executable file not found in $PATH');
    // a shell's own 127 is the command's status, passed on as it is
    const sh = await runStep({
      snapshotter: store.snapshots,
      key: 'run-127',
      parent: 'base',
      root: fx.root,
      process: { args: ['/bin/sh', '-c', 'nonexistent-cmd'] },
    }).catch((e) => e);
    expect(sh.exitCode).toBe(127);
  });
});
