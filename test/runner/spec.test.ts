import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostsFile, resolvConf } from '../../src/runner/etc-files.js';
import {
  buildSpec,
  capabilitiesOf,
  DEFAULT_CAPABILITIES,
  detectRuntime,
  processEnv,
  RunStepError,
  type RuntimeSpecInput,
} from '../../src/runner/index.js';
import { specJson } from '../../src/runner/spec.js';

const capNumber = (name: string) => capabilitiesOf('1ffffffffff').indexOf(name);

const base: RuntimeSpecInput = {
  args: ['/bin/sh', '-c', 'true'],
  env: ['PATH=/bin'],
  cwd: '/',
  user: { uid: 1000, gid: 1000, additionalGids: [1000, 50], home: '/home/app' },
  hostname: 'h',
  network: 'host',
  etcFiles: { hosts: '/b/hosts', resolvConf: '/b/resolv.conf', hostname: '/b/hostname' },
  mounts: [],
  limits: { memory: 1 << 30, cpus: 1.5, pidsLimit: 100 },
  cgroupsPath: 'tsbuild/x/ctr',
  limitsInSpec: true,
  rootPath: '/b/rootfs',
};

// biome-ignore lint/suspicious/noExplicitAny: spec JSON is untyped data
const spec = (i: Partial<RuntimeSpecInput> = {}): any => buildSpec({ ...base, ...i });

describe('buildSpec (pure)', () => {
  it('is deterministic data', () => {
    expect(JSON.stringify(spec())).toBe(JSON.stringify(spec()));
  });

  it('namespaces: network only for none', () => {
    const types = (s: { linux: { namespaces: { type: string }[] } }) =>
      s.linux.namespaces.map((n) => n.type).sort();
    expect(types(spec())).toEqual(['cgroup', 'ipc', 'mount', 'pid', 'uts']);
    expect(types(spec({ network: 'none' }))).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
  });

  it('--ulimit as process.rlimits (unlimited as the uint64 RLIM_INFINITY); --shm-size sizes /dev/shm', () => {
    expect(spec().process.rlimits).toBeUndefined();
    const shm = (s: { mounts: { destination: string; options?: string[] }[] }) =>
      s.mounts.find((m) => m.destination === '/dev/shm')?.options?.find((o) => o.startsWith('size='));
    expect(shm(spec())).toBe('size=65536k');
    const input = {
      ...base,
      rlimits: [
        { name: 'nofile', soft: 1000, hard: 2000 },
        { name: 'core', soft: -1, hard: -1 },
      ],
      shmSize: 128 << 20,
    };
    const s = buildSpec(input) as unknown as Parameters<typeof shm>[0];
    expect(shm(s)).toBe(`size=${128 << 20}`);
    const json = specJson(buildSpec(input));
    expect(json).toContain('{"type":"RLIMIT_NOFILE","hard":2000,"soft":1000}');
    expect(json).toContain('{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615}');
  });

  it("RUN --mount targets in BuildKit's order (sorted, so /a/b lands on a mount at /a) and options", () => {
    const s = spec({
      mounts: [
        { target: '/a/b', type: 'bind', source: '/ctx/d', readonly: true },
        { target: '/a', type: 'tmpfs' },
        { target: '/0', type: 'bind', source: '/c' },
      ],
    });
    const user = s.mounts.slice(-3) as { destination: string; options: string[] }[];
    expect(user.map((m) => m.destination)).toEqual(['/0', '/a', '/a/b']);
    expect(user.map((m) => m.options)).toEqual([
      ['rbind', 'rprivate', 'rw'],
      ['nosuid'],
      ['rbind', 'rprivate', 'ro'],
    ]);
  });

  it('process: user with supplementary groups, Docker caps, no_new_privileges, no terminal', () => {
    const p = spec().process;
    expect(p.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 50] });
    expect(p.terminal).toBe(false);
    expect(p.noNewPrivileges).toBe(true);
    expect(p.capabilities.bounding).toEqual(DEFAULT_CAPABILITIES);
    expect(p.capabilities.bounding).toHaveLength(14);
    expect(p.capabilities.bounding).not.toContain('CAP_SYS_ADMIN');
  });

  it('privileged (RUN --security=insecure): our own capabilities, no seccomp, masks, nnp; /sys rw; all devices', () => {
    const s = spec({ privileged: true });
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] as string;
    const bits = BigInt(`0x${eff}`).toString(2).replace(/0/g, '').length;
    expect(s.process.capabilities.bounding).toHaveLength(bits);
    expect(s.process.capabilities.effective).toContain('CAP_SYS_ADMIN');
    expect(s.process.noNewPrivileges).toBe(false);
    expect(s.linux.seccomp).toBeUndefined();
    expect(s.linux.maskedPaths).toBeUndefined();
    expect(s.linux.readonlyPaths).toBeUndefined();
    expect(s.linux.resources.devices).toEqual([{ allow: true, access: 'rwm' }]);
    const sys = s.mounts.find((m: { destination: string }) => m.destination === '/sys');
    expect(sys.options).not.toContain('ro');
    // the default stays locked down
    const d = spec();
    expect(d.linux.seccomp).toBeDefined();
    expect(d.linux.resources.devices).toEqual([{ allow: false, access: 'rwm' }]);
    expect(capabilitiesOf('7')).toEqual(['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH']);
    expect(capabilitiesOf('a80425fb')).toEqual(
      [...DEFAULT_CAPABILITIES].sort((a, b) => capNumber(a) - capNumber(b)),
    );
    expect(capabilitiesOf('000001fffeffffff')).not.toContain('CAP_SYS_RESOURCE');
  });

  it('mounts: system mounts, /sys read-only, etc files bound, user mounts after (by target)', () => {
    const s = spec({
      mounts: [
        { target: '/cache', type: 'bind', source: '/host/cache' },
        { target: '/t', type: 'tmpfs', options: ['size=1024'] },
        { target: '/ro', type: 'bind', source: '/host/ro', readonly: true },
      ],
    });
    const dests = s.mounts.map((m: { destination: string }) => m.destination);
    expect(dests).toEqual([
      '/proc',
      '/dev',
      '/dev/pts',
      '/dev/shm',
      '/dev/mqueue',
      '/sys',
      '/sys/fs/cgroup',
      '/etc/hosts',
      '/etc/resolv.conf',
      '/etc/hostname',
      '/cache',
      '/ro',
      '/t',
    ]);
    const byDest = Object.fromEntries(s.mounts.map((m: { destination: string }) => [m.destination, m]));
    expect(byDest['/sys'].options).toContain('ro');
    expect(byDest['/cache'].options).toContain('rw');
    expect(byDest['/ro'].options).toContain('ro');
    expect(byDest['/t'].options).toContain('size=1024');
    expect(s.linux.maskedPaths).toContain('/proc/kcore');
    expect(s.linux.seccomp.defaultAction).toBe('SCMP_ACT_ALLOW');
    expect(s.linux.seccomp.syscalls[0].names).toEqual(
      expect.arrayContaining(['unshare', 'keyctl', 'bpf', 'mount']),
    );
    expect(s.linux.readonlyPaths).toContain('/proc/sys');
  });

  it('limits go into the spec only when the runtime applies them (v2)', () => {
    expect(spec().linux.resources).toMatchObject({
      memory: { limit: 1 << 30 },
      pids: { limit: 100 },
      cpu: { quota: 150000, period: 100000 },
    });
    expect(spec({ limitsInSpec: false }).linux.resources).toEqual({
      devices: [{ allow: false, access: 'rwm' }],
    });
  });

  it('env: default PATH when missing, HOME from passwd', () => {
    const u = base.user;
    expect(processEnv([], u)).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOME=/home/app',
    ]);
    expect(processEnv(['PATH=/x', 'HOME=/h'], u)).toEqual(['PATH=/x', 'HOME=/h']);
  });
});

describe('etc files', () => {
  it('hosts has localhost, the hostname and extra hosts', () => {
    const h = hostsFile('box', ['db:10.0.0.2', 'v6:fe80::1']);
    // exactly BuildKit's default hosts (executor/oci/hosts.go), then the extra hosts
    expect(h.startsWith('127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n')).toBe(true);
    expect(h).not.toContain('127.0.1.1');
    expect(h).toContain('10.0.0.2\tdb\n');
    expect(h).toContain('fe80::1\tv6\n');
  });
  it('resolv.conf: host keeps everything, none drops loopback resolvers', () => {
    const t = 'nameserver 127.0.0.53\nnameserver 9.9.9.9\nsearch lan\n';
    expect(resolvConf('host', t)).toBe(t);
    expect(resolvConf('none', t)).toBe('nameserver 9.9.9.9\nsearch lan\n');
  });
});

describe('RunStepError', () => {
  it('names the command and exit code and shows the tail', () => {
    const e = new RunStepError({
      command: ['/bin/sh', '-c', 'make'],
      exitCode: 2,
      outputTail: ['cc: error', 'make: *** [all] Error 1'],
    });
    expect(e.code).toBe('RUN_FAILED');
    expect(e.message).toBe(
      'process "/bin/sh -c make" did not complete successfully: exit code: 2\n  > cc: error\n  > make: *** [all] Error 1',
    );
    const oom = new RunStepError({ command: ['x'], exitCode: 137, oomKilled: true, outputTail: [] });
    expect(oom.code).toBe('RUN_OOM_KILLED');
    expect(oom.hint).toMatch(/--memory/);
  });
});

describe('detectRuntime', () => {
  it('runc by default here; a missing runtime is an error naming the Debian package', () => {
    expect(detectRuntime({ PATH: process.env.PATH }).name).toBe('runc');
    expect(() => detectRuntime({ PATH: '', TSBUILD_RUNTIME: '/nonexistent/runc' })).toThrow(
      expect.objectContaining({ code: 'RUNNER_NO_RUNTIME', hint: 'apt-get install -y runc' }),
    );
    expect(() => detectRuntime({ PATH: '', TSBUILD_RUNTIME: 'crun-nope' })).toThrow(
      expect.objectContaining({ code: 'RUNNER_NO_RUNTIME', hint: 'apt-get install -y crun' }),
    );
  });
});
