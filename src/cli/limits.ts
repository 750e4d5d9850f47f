import { Flags } from '@oclif/core';
import type { BuildLimits } from '../build.js';
import { TsbuildError } from '../errors.js';

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

/** The resource flags of `build` and `watch`, named as in `docker build` / buildah. */
export const limitFlags = {
  memory: Flags.string({ char: 'm', description: 'memory limit of each RUN step (e.g. 512m, 2g)' }),
  'cpu-quota': Flags.integer({ description: 'CPU CFS quota of each RUN step (µs per period)', min: 1000 }),
  'cpu-period': Flags.integer({
    description: 'CPU CFS period (µs, default 100000)',
    min: 1000,
    max: 1_000_000,
  }),
  cpus: Flags.string({ description: 'number of CPUs for each RUN step (e.g. 1.5)' }),
  'pids-limit': Flags.integer({ description: 'maximum number of processes in each RUN step', min: 1 }),
  'insecure-registry': Flags.string({
    description: 'registry reached over plain HTTP or unverified TLS (host[:port])',
    multiple: true,
    multipleNonGreedy: true,
  }),
};

interface LimitFlagValues {
  memory?: string | undefined;
  'cpu-quota'?: number | undefined;
  'cpu-period'?: number | undefined;
  cpus?: string | undefined;
  'pids-limit'?: number | undefined;
}

/** The flags as BuildOptions.limits, or undefined when none is given. */
export function parseLimits(f: LimitFlagValues): BuildLimits | undefined {
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
