import { readFileSync } from 'node:fs';
import { cpuQuota } from './cgroups.js';
import { insecureDevices } from './insecure-devices.js';
import { buildSeccomp } from './seccomp.js';
import type { ContainerMount, ResolvedUser, Rlimit, RunLimits, RunNetwork } from './types.js';

/** Docker's default capability set (moby `oci/caps/defaults.go`). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** moby `oci/defaults.go`: paths masked (bind of /dev/null or an empty ro tmpfs) in every container. */
export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RuntimeSpecInput {
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  hostname: string;
  network: RunNetwork;
  /** host files bind-mounted over /etc/hosts, /etc/resolv.conf, /etc/hostname */
  etcFiles: { hosts: string; resolvConf: string; hostname: string };
  mounts: ContainerMount[];
  limits: RunLimits;
  /** `linux.cgroupsPath` */
  cgroupsPath: string;
  /** v2 hosts: limits go into the spec; v1: they are on the parent cgroup already */
  limitsInSpec: boolean;
  /** the rootfs dir, absolute */
  rootPath: string;
  /** an overlay the runtime mounts at `/` (first, so every other mount lands on it) */
  rootMount?: SpecMount;
  /** BuildKit's insecure mode (`oci.WithPrivileged`): every capability, no seccomp, no masked paths */
  privileged?: boolean;
  rlimits?: Rlimit[];
  /** /dev/shm size in bytes (default 64 MiB) */
  shmSize?: number;
}

/** An OCI runtime-spec 1.0 config.json as plain data. */
export type RuntimeSpec = Record<string, unknown>;

export interface SpecMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** Capability names by number (linux/capability.h), as runc knows them. */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** The names of the capabilities set in a `/proc/<pid>/status` mask (hex, e.g. CapEff). */
export function capabilitiesOf(hexMask: string): string[] {
  const mask = BigInt(`0x${hexMask}`);
  return ALL_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/** RLIM_INFINITY is 2^64-1, past what a JS number holds exactly: `specJson` writes it in digits. */
const UNLIMITED = 'RLIM_INFINITY';

function rlimit(l: Rlimit) {
  const v = (n: number) => (n === -1 ? UNLIMITED : n);
  return { type: `RLIMIT_${l.name.toUpperCase()}`, hard: v(l.hard), soft: v(l.soft) };
}

/** config.json text of a spec (an unlimited rlimit as the uint64 it is). */
export function specJson(spec: RuntimeSpec): string {
  return JSON.stringify(spec).replaceAll(`"${UNLIMITED}"`, '18446744073709551615');
}

function systemMounts(privileged = false, shmSize?: number): SpecMount[] {
  // Privileged: /sys and the cgroup tree writable, as Docker's --privileged.
  const ro = privileged ? [] : ['ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize ?? '65536k'}`],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', ...ro],
    },
  ];
}

function userMounts(input: RuntimeSpecInput): SpecMount[] {
  const etc: SpecMount[] = [
    { destination: '/etc/hosts', type: 'bind', source: input.etcFiles.hosts, options: ['rbind', 'rprivate'] },
    {
      destination: '/etc/resolv.conf',
      type: 'bind',
      source: input.etcFiles.resolvConf,
      options: ['rbind', 'rprivate'],
    },
    {
      destination: '/etc/hostname',
      type: 'bind',
      source: input.etcFiles.hostname,
      options: ['rbind', 'rprivate'],
    },
  ];
  // BuildKit's runc executor sorts a step's mounts by target (Go string order), so a mount inside
  // another one's target (`/a/b` under a tmpfs at `/a`) lands on it rather than under it. Its
  // options are BuildKit's too: tmpfs `nosuid`, binds no more than `rbind` and `ro`/`rw`.
  const byTarget = [...input.mounts].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  const extra = byTarget.map((m): SpecMount => {
    if (m.type === 'tmpfs') {
      return {
        destination: m.target,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', ...(m.readonly ? ['ro'] : []), ...(m.options ?? [])],
      };
    }
    return {
      destination: m.target,
      type: 'bind',
      source: m.source ?? '',
      options: ['rbind', 'rprivate', m.readonly ? 'ro' : 'rw', ...(m.options ?? [])],
    };
  });
  return [...etc, ...extra];
}

function resources(input: RuntimeSpecInput): Record<string, unknown> {
  const r: Record<string, unknown> = { devices: [{ allow: !!input.privileged, access: 'rwm' }] };
  if (!input.limitsInSpec) return r;
  const l = input.limits;
  if (l.memory !== undefined) r.memory = { limit: l.memory, swap: l.memory };
  if (l.pidsLimit !== undefined) r.pids = { limit: l.pidsLimit };
  const { quota, period } = cpuQuota(l);
  if (quota !== undefined) r.cpu = { quota, period };
  return r;
}

/**
 * Builds the runtime spec. Pure: the same input gives the same JSON. Isolation follows Docker's
 * defaults: new mount, PID, UTS, IPC and cgroup namespaces, a new network namespace only for
 * `none` (runc brings up `lo` in it), Docker's capabilities, no_new_privileges, masked and
 * read-only /proc paths. Privileged (insecure) mode drops the seccomp filter, the masks and
 * no_new_privileges, and gives every capability and device access.
 */
export function buildSpec(input: RuntimeSpecInput): RuntimeSpec {
  const priv = !!input.privileged;
  const caps = priv ? currentCapabilities() : [...DEFAULT_CAPABILITIES];
  const namespaces: { type: string }[] = [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'cgroup' },
  ];
  if (input.network === 'none') namespaces.push({ type: 'network' });
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: input.user.additionalGids },
      args: input.args,
      env: input.env,
      cwd: input.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: !priv,
      ...(input.rlimits?.length ? { rlimits: input.rlimits.map(rlimit) } : {}),
    },
    root: { path: input.rootPath, readonly: false },
    hostname: input.hostname,
    mounts: [
      ...(input.rootMount ? [input.rootMount] : []),
      ...systemMounts(priv, input.shmSize),
      ...userMounts(input),
    ],
    linux: {
      cgroupsPath: input.cgroupsPath,
      resources: resources(input),
      namespaces,
      ...(priv
        ? { devices: insecureDevices() }
        : { seccomp: buildSeccomp(), maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS }),
    },
  };
}

let current: string[] | undefined;
/**
 * Every capability this process holds (containerd's WithAllCurrentCapabilities, which BuildKit's
 * insecure mode uses): asking runc for one we lack fails with "unable to apply caps".
 */
function currentCapabilities(): string[] {
  if (!current) {
    let hex = '';
    try {
      hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
    } catch {
      // no procfs: Docker's set
    }
    current = hex ? capabilitiesOf(hex) : [...DEFAULT_CAPABILITIES];
  }
  return current;
}

/** The environment as Docker gives it: the step's env, `PATH` when missing, `HOME` from passwd. */
export function processEnv(env: string[], user: ResolvedUser): string[] {
  const out = [...env];
  const has = (k: string) => out.some((e) => e.startsWith(`${k}=`));
  if (!has('PATH')) out.unshift(`PATH=${DEFAULT_PATH}`);
  if (!has('HOME')) out.push(`HOME=${user.home || '/'}`);
  return out;
}
