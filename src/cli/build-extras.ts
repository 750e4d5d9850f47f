import { isIP } from 'node:net';
import type { BuildLimits, BuildOptions, Ulimit } from '../build.js';
import { TsbuildError } from '../errors.js';

/**
 * What the flags beyond the build's own options give `build` and `watch`: resource limits, insecure
 * registries, `--add-host`, `--ulimit`, `--shm-size`, caches, annotations, and the flags accepted
 * and ignored. Free of oclif (its flag definitions are in limits.ts, run-flags.ts and
 * docker-compat.ts), so the start-up fast path (fast-build.ts) reads them without loading it.
 */
export type ExtraFlagValues = LimitFlagValues &
  RunFlagValues & { 'insecure-registry'?: string[] | undefined };

export function buildExtras(flags: ExtraFlagValues): Partial<BuildOptions> {
  const limits = parseLimits(flags);
  const insecure = flags['insecure-registry'];
  return {
    ...(limits ? { limits } : {}),
    ...(insecure?.length ? { insecureRegistries: insecure } : {}),
    ...parseRunFlags(flags),
  };
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `512m`, `1g`, `1.5GiB`, `1048576`: Docker's RAMInBytes (binary units, case-insensitive). */
export function parseBytes(s: string, flag = 'memory', min = 6 * 1024 * 1024): number {
  const m =
    /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(s) ?? /^\s*(\d+(?:\.\d+)?)\s*(b)\s*$/i.exec(s);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  const n = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0)
    throw new TsbuildError('USAGE', `--${flag} ${s}: expected a size such as 512m or 2g`);
  // The kernel rejects tiny limits (and a step could not start under them), as Docker does.
  if (n < min) throw new TsbuildError('USAGE', `--${flag} ${s}: the minimum is ${min / 1024 / 1024}m`);
  return n;
}

interface LimitFlagValues {
  memory?: string | undefined;
  'cpu-quota'?: number | undefined;
  'cpu-period'?: number | undefined;
  cpus?: string | undefined;
  'pids-limit'?: number | undefined;
}

/** The flags as BuildOptions.limits, or undefined when none is given. */
function parseLimits(f: LimitFlagValues): BuildLimits | undefined {
  const out: BuildLimits = {};
  if (f.memory !== undefined) out.memory = parseBytes(f.memory);
  if (f['cpu-quota'] !== undefined && f.cpus !== undefined)
    throw new TsbuildError('USAGE', '--cpus and --cpu-quota cannot be given together');
  if (f['cpu-quota'] !== undefined) out.cpuQuota = f['cpu-quota'];
  if (f['cpu-period'] !== undefined) out.cpuPeriod = f['cpu-period'];
  if (f.cpus !== undefined) {
    const n = Number(f.cpus);
    if (!Number.isFinite(n) || n <= 0 || !/^\d*\.?\d+$/.test(f.cpus))
      throw new TsbuildError('USAGE', `--cpus ${f.cpus}: expected a positive number such as 1.5`);
    out.cpus = n;
  }
  if (f['pids-limit'] !== undefined) out.pidsLimit = f['pids-limit'];
  return Object.keys(out).length > 0 ? out : undefined;
}

interface RunFlagValues {
  'add-host'?: string[] | undefined;
  annotation?: string[] | undefined;
  load?: boolean | undefined;
  provenance?: string | undefined;
  sbom?: string | undefined;
  'cache-from'?: string[] | undefined;
  'cache-to'?: string[] | undefined;
  ulimit?: string[] | undefined;
  'shm-size'?: string | undefined;
}

/** The flags as BuildOptions (only those given). */
function parseRunFlags(f: RunFlagValues): Partial<BuildOptions> {
  // CI scripts pass docker's cache import/export flags; failing on them would stop the build.
  // …and buildx's attestation flags; `--provenance=false` (what scripts pass to turn them off) is silent.
  const attest = (name: string, v: string | undefined) =>
    v === undefined || /^(false|0)$/i.test(v) ? [] : [`--${name} ${v}`];
  const ignored = [
    ...attest('provenance', f.provenance),
    ...attest('sbom', f.sbom),
    ...classicFlagsGiven(f as Record<string, unknown>),
  ];
  return {
    ...(f['cache-from']?.length ? { cacheFrom: f['cache-from'] } : {}),
    ...(f['cache-to']?.length ? { cacheTo: f['cache-to'] } : {}),
    ...(f.annotation?.length ? { annotations: f.annotation } : {}),
    ...(f.load ? { load: true } : {}),
    ...(f['add-host']?.length ? { addHosts: f['add-host'].map(parseAddHost) } : {}),
    ...(f.ulimit?.length ? { ulimits: f.ulimit.map(parseUlimit) } : {}),
    ...(f['shm-size'] !== undefined ? { shmSize: parseBytes(f['shm-size'], 'shm-size', 1) } : {}),
    ...(ignored.length > 0 ? { ignoredFlags: ignored } : {}),
  };
}

/**
 * `host:ip`, `host=ip` or `host:[ipv6]` (docker/cli's ValidateExtraHost): `name:ip`, as the runner
 * writes it. The name is split at the first `:` or `=`, so `h:::1` is an IPv6 address.
 */
export function parseAddHost(s: string): string {
  const eq = s.indexOf('=');
  const sep = eq > 0 ? eq : s.indexOf(':');
  const name = sep > 0 ? s.slice(0, sep) : '';
  let ip = sep > 0 ? s.slice(sep + 1) : '';
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip === 'host-gateway')
    throw new TsbuildError('USAGE', `--add-host ${s}: host-gateway is Docker's daemon setting`, {
      hint: 'give the address, e.g. --add-host host.docker.internal=172.17.0.1',
    });
  if (!name || /\s/.test(name) || isIP(ip) === 0)
    throw new TsbuildError('USAGE', `invalid --add-host "${s}": expected host:ip or host=ip`);
  return `${name}:${ip}`;
}

/** docker/go-units' ParseUlimit: `name=soft[:hard]`, names without RLIMIT_, -1 for unlimited. */
const ULIMITS = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

export function parseUlimit(s: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s);
  const bad = (why: string) => new TsbuildError('USAGE', `invalid --ulimit "${s}": ${why}`);
  if (!m) throw bad('expected name=soft[:hard], e.g. nofile=1024:2048');
  const name = m[1] as string;
  if (!ULIMITS.has(name)) throw bad(`unknown limit ${name}`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft < -1 || hard < -1) throw bad('a limit is a number of units, or -1 for unlimited');
  const lim = (n: number) => (n === -1 ? Number.MAX_SAFE_INTEGER : n);
  if (lim(soft) > lim(hard)) throw bad(`soft limit ${soft} is greater than hard limit ${hard}`);
  return { name, soft, hard };
}

/** The classic builder's flags (docker-compat.ts defines them for oclif; a test keeps both equal). */
export const CLASSIC_FLAG_NAMES = [
  'cpu-shares',
  'cpuset-cpus',
  'cpuset-mems',
  'memory-swap',
  'cgroup-parent',
  'isolation',
  'security-opt',
  'compress',
  'squash',
  'disable-content-trust',
];

/** The classic flags given, as `--name value` for the build's "ignored" warnings. */
export function classicFlagsGiven(f: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const name of CLASSIC_FLAG_NAMES) {
    const v = f[name];
    if (name === 'disable-content-trust' || v === undefined || v === false) continue;
    const values = Array.isArray(v) ? v : [v];
    for (const x of values) out.push(x === true ? `--${name}` : `--${name} ${String(x)}`);
  }
  return out;
}
