import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCgroupVersion, RunStepError, runStep } from '../../src/runner/index.js';
import { type Fixture, makeFixture, sh } from './fixture.js';

let fx: Fixture;
fx = makeFixture();
afterAll(() => fx.cleanup());

const MiB = 1024 * 1024;

/** Our parent cgroup dir for a v1 controller (none must remain after a run). */
function tsbuildCgroupDir(controller: string): string {
  // `unified` is the hybrid layout's cgroup2 mount: its line in /proc/self/cgroup is `0::/…`
  const key = controller === 'unified' ? '0:' : `:${controller}`;
  const own =
    new RegExp(`^\\d*${key}:(.*)$`, 'm').exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
  return join(`/sys/fs/cgroup/${controller}${own}`, 'tsbuild');
}

/** Our containers' cgroup dirs still present in any v1 hierarchy or the unified one. */
function leftoverCgroups(): string[] {
  const out: string[] = [];
  for (const c of ['memory', 'pids', 'cpu', 'cpuset', 'devices', 'freezer', 'blkio', 'unified']) {
    const dir = tsbuildCgroupDir(c);
    if (!existsSync(dir)) continue;
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      if (d.isDirectory() && d.name.startsWith('tsb-limits-')) out.push(`${c}/${d.name}`);
    }
  }
  return out;
}

/** The file's content once it exists (and, with `until`, once it matches: runc makes a cgroup's
 * files before it moves the process in, so `cgroup.procs` is empty for a moment). */
async function waitFor(path: string, until?: RegExp): Promise<string> {
  let last = '';
  for (let i = 0; i < 100; i++) {
    if (existsSync(path)) {
      last = readFileSync(path, 'utf8').trim();
      if (!until || until.test(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (until) return last;
  throw new Error(`${path} never appeared`);
}

describe('cgroup limits', () => {
  it('a memory hog is OOM-killed and the result says so', async () => {
    const r = await sh(fx, 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived', {
      limits: { memory: 32 * MiB },
    });
    expect(r.stdout).not.toContain('survived');
    expect(r.exitCode).toBe(137);
    expect(r.oomKilled).toBe(true);
    expect(r.signal).toBe('SIGKILL');
  });

  it('the same step without a limit succeeds, and is not called OOM', async () => {
    const r = await sh(fx, 'x=$(head -c 50000000 /dev/zero | tr "\\0" a); printf %s "$x" | wc -c');
    expect(r.stdout.trim()).toBe('50000000');
    expect(r.oomKilled).toBe(false);
  });

  it('runStep reports an OOM kill as RUN_OOM_KILLED with the command', async () => {
    const layer = fx.layer();
    const removed: string[] = [];
    const snapshotter = {
      prepare: async () => layer.mounts,
      remove: async (k: string) => void removed.push(k),
    };
    const err = await runStep({
      snapshotter,
      key: 'k1',
      root: fx.root,
      process: { args: ['/bin/sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" a)'] },
      limits: { memory: 24 * MiB },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RunStepError);
    expect(err.code).toBe('RUN_OOM_KILLED');
    expect(err.message).toMatch(/did not complete successfully: exit code: 137 \(killed: out of memory\)/);
    expect(err.message).toContain('/bin/sh -c x=$(head');
    expect(removed).toEqual(['k1']);
  });

  it('a pids limit stops a fork bomb; the step ends and the host is unharmed', async () => {
    // Only builtins after the bomb: at the limit PID 1 itself cannot fork either. The peak is read
    // from the step's own pids.current (/proc would also show tasks being reaped).
    const script = [
      // a subshell forks sleepers until fork fails (then it exits; the sleepers hold the pids)
      '( while true; do sleep 30 & done ) &',
      'peak=0; i=0; while [ $i -lt 500000 ] && [ $peak -lt 40 ]; do read n < /sys/fs/cgroup/pids/pids.current; [ $n -gt $peak ] && peak=$n; i=$((i+1)); done',
      'i=0; while [ $i -lt 20000 ]; do read n < /sys/fs/cgroup/pids/pids.current; [ $n -gt $peak ] && peak=$n; i=$((i+1)); done',
      'echo alive $peak',
    ].join('\n');
    const r = await sh(fx, script, { limits: { pidsLimit: 40 } });
    expect(r.exitCode, r.stderr.slice(0, 300)).toBe(0);
    const m = /^alive (\d+)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    // it got to the limit (sampling may miss the instant of 40 itself) and never past it
    expect(Number(m![1])).toBeGreaterThanOrEqual(35);
    expect(Number(m![1])).toBeLessThanOrEqual(40);
    expect(r.stderr).toMatch(/can't fork|Resource temporarily unavailable|Try again/i);
  });

  it('cpu, memory and pids limits are on the cgroup while the step runs; nothing is left after', async () => {
    requireV1();
    const id = `tsb-limits-${process.pid}`;
    const run = sh(fx, 'sleep 1', { id, limits: { cpus: 0.5, memory: 64 * MiB, pidsLimit: 99 } });
    expect(await waitFor(join(tsbuildCgroupDir('cpu'), id, 'cpu.cfs_quota_us'))).toBe('50000');
    expect(await waitFor(join(tsbuildCgroupDir('cpu'), id, 'cpu.cfs_period_us'))).toBe('100000');
    expect(await waitFor(join(tsbuildCgroupDir('memory'), id, 'memory.limit_in_bytes'))).toBe(
      String(64 * MiB),
    );
    expect(await waitFor(join(tsbuildCgroupDir('pids'), id, 'pids.max'))).toBe('99');
    // the container's processes are in runc's leaf below it
    expect(await waitFor(join(tsbuildCgroupDir('pids'), id, 'ctr', 'cgroup.procs'), /^\d+/)).toMatch(/^\d+/);
    expect((await run).exitCode).toBe(0);
    expect(leftoverCgroups()).toEqual([]);
    expect(existsSync(join(tsbuildCgroupDir('cpu'), id))).toBe(false);
  });
});

function requireV1(): void {
  if (detectCgroupVersion() !== 1)
    throw new Error('this test checks cgroup v1 files (these CI machines are v1/hybrid)');
}
