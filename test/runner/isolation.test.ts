import { existsSync, readlinkSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type Fixture, listTree, makeFixture, sh } from './fixture.js';

let fx: Fixture;
fx = makeFixture();
afterAll(() => fx.cleanup());

const NS = ['pid', 'uts', 'ipc', 'mnt', 'cgroup', 'net'];
const script = NS.map((n) => `readlink /proc/self/ns/${n}`).join('; ');

describe('isolation (real runc on busybox)', () => {
  it('creates new pid, uts, ipc, mount and cgroup namespaces; shares the host netns under host', async () => {
    const r = await sh(fx, script, { network: 'host' });
    expect(r.exitCode).toBe(0);
    const inside = r.stdout.trim().split('\n');
    const host = NS.map((n) => readlinkSync(`/proc/self/ns/${n}`));
    NS.forEach((n, i) => {
      if (n === 'net') expect(inside[i]).toBe(host[i]);
      else expect(inside[i], n).not.toBe(host[i]);
    });
  });

  it('network none: a new netns with loopback only', async () => {
    const r = await sh(fx, `readlink /proc/self/ns/net; ip -o link | awk -F': ' '{print $2}'`, {
      network: 'none',
    });
    expect(r.exitCode).toBe(0);
    const [ns, ...links] = r.stdout.trim().split('\n');
    expect(ns).not.toBe(readlinkSync('/proc/self/ns/net'));
    expect(links).toEqual(['lo']);
  });

  it('hostname is set (default buildkitsandbox, or given) and /etc/hostname matches', async () => {
    const a = await sh(fx, 'hostname; cat /etc/hostname');
    expect(a.stdout).toBe('buildkitsandbox\nbuildkitsandbox\n');
    const b = await sh(fx, 'hostname; grep -c myhost /etc/hosts', { hostname: 'myhost' });
    expect(b.stdout).toBe('myhost\n1\n');
  });

  it('the process is PID 1 and /proc shows only the container', async () => {
    const r = await sh(fx, 'echo $$; ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\\n" " "');
    const [pid, procs] = r.stdout.split('\n');
    expect(pid).toBe('1');
    const pids = procs!.trim().split(' ').map(Number);
    expect(pids).toContain(1);
    expect(pids.length).toBeLessThan(6);
    expect(pids).not.toContain(process.pid);
  });

  it("Docker's capabilities, no_new_privileges, masked and read-only paths", async () => {
    // Only paths this kernel has can be checked (some hosts lack /proc/kcore or /proc/sysrq-trigger).
    const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug'].filter(existsSync);
    const ro = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'].filter(existsSync);
    expect(masked.length + ro.length).toBeGreaterThan(0);
    const r = await sh(
      fx,
      [
        'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status',
        `for p in ${masked.join(' ')}; do echo "$p $(cat $p 2>/dev/null | wc -c)"; done`,
        `for p in ${ro.join(' ')}; do awk -v p=$p '$5==p {print p, $6}' /proc/self/mountinfo; done`,
        'echo x > /proc/sys/kernel/hostname && echo WROTE || echo DENIED',
      ].join('; '),
    );
    expect(r.stdout).toContain('CapEff:\t00000000a80425fb');
    expect(r.stdout).toContain('CapBnd:\t00000000a80425fb');
    expect(r.stdout).toContain('NoNewPrivs:\t1');
    for (const p of masked) expect(r.stdout).toContain(`${p} 0\n`);
    for (const p of ro) expect(r.stdout).toMatch(new RegExp(`${p} ro,`));
    expect(r.stdout).toContain('DENIED');
  });

  it('/proc, /dev (tmpfs with standard nodes), /dev/pts, /dev/shm, /dev/mqueue, /sys read-only', async () => {
    const r = await sh(
      fx,
      [
        "for m in /proc /dev /dev/pts /dev/shm /dev/mqueue /sys; do awk -v m=$m '$5==m {print m, $0}' /proc/self/mountinfo | head -1; done",
        'ls /dev | tr "\\n" " "',
        'touch /sys/x 2>/dev/null && echo SYSW || echo SYSRO',
        'echo hi > /dev/shm/a && cat /dev/shm/a',
      ].join('; '),
    );
    expect(r.exitCode).toBe(0);
    const types: Record<string, string> = {};
    for (const l of r.stdout.split('\n')) {
      const m = /^(\/\S*) .* - (\S+) /.exec(l);
      if (m) types[m[1]!] = m[2]!;
    }
    expect(types).toEqual({
      '/proc': 'proc',
      '/dev': 'tmpfs',
      '/dev/pts': 'devpts',
      '/dev/shm': 'tmpfs',
      '/dev/mqueue': 'mqueue',
      '/sys': 'sysfs',
    });
    for (const n of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx', 'pts', 'shm']) {
      expect(r.stdout).toContain(` ${n} `.trimStart());
    }
    expect(r.stdout).toContain('SYSRO');
    expect(r.stdout).toContain('hi\n');
  });

  it('/etc/hosts, /etc/resolv.conf, /etc/hostname are bind mounts and leave nothing in the diff', async () => {
    const r = await sh(fx, 'cat /etc/hosts; echo changed >> /etc/hosts; ls -d /proc /sys /dev', {
      extraHosts: ['db:10.1.2.3'],
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('127.0.0.1\tlocalhost');
    expect(r.stdout).toContain('10.1.2.3\tdb');
    // the busybox root has no /proc, /sys, /dev and no /etc/hosts: runc's stubs must not remain
    expect(listTree(r.upper)).toEqual([]);
  });

  it('seccomp as Docker: no new user/network namespaces, ordinary processes unaffected', async () => {
    const r = await sh(
      fx,
      [
        'grep -E "^Seccomp:" /proc/self/status',
        'unshare -U true 2>/dev/null && echo USERNS || echo no-userns',
        'unshare -n true 2>/dev/null && echo NETNS || echo no-netns',
        '(sleep 0.05 & wait) && echo fork-ok',
      ].join('; '),
    );
    expect(r.stdout).toBe('Seccomp:\t2\nno-userns\nno-netns\nfork-ok\n');
  });
});
