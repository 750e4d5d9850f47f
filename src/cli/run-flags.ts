import { isIP } from 'node:net';
import { Flags } from '@oclif/core';
import type { BuildOptions, Ulimit } from '../build.js';
import { TsbuildError } from '../errors.js';
import { classicFlags, classicFlagsGiven } from './docker-compat.js';
import { parseBytes } from './limits.js';

/**
 * `docker build` flags that shape every RUN's container: `--add-host`, `--ulimit`, `--shm-size`; and
 * the classic builder's `--rm` / `--force-rm`, which BuildKit accepts and ignores (it keeps no
 * intermediate containers), so scripts written for `docker build` run unchanged; so are buildx's
 * `--provenance`/`--sbom` (with a warning: no attestation is made) and `--load` (the local store).
 * `--cache-from`/`--cache-to` (registry and local caches) and `--annotation` are buildx's, done.
 */
export const runFlags = {
  'add-host': Flags.string({
    description: 'add a line to /etc/hosts of each RUN (host:ip or host=ip)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  ulimit: Flags.string({
    description: 'ulimit of each RUN (e.g. nofile=1024:2048)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  'shm-size': Flags.string({ description: 'size of /dev/shm in each RUN (e.g. 128m; default 64m)' }),
  'cache-from': Flags.string({
    description:
      'import build cache: type=registry,ref=REF (or REF: a cache, or an image with an inline cache) | type=local,src=DIR',
    multiple: true,
    multipleNonGreedy: true,
  }),
  'cache-to': Flags.string({
    description:
      'export build cache: type=registry,ref=REF | type=local,dest=DIR [,mode=min|max][,ignore-error=true] | type=inline (in the image)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  annotation: Flags.string({
    description: 'add an annotation to the image manifest ([manifest:|index:]KEY=VALUE)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  load: Flags.boolean({
    description: 'keep the image in the local store (buildx: load into docker); the default without -o',
    default: false,
  }),
  provenance: Flags.string({
    description: "accepted for buildx's sake: no attestation is made (false is silent)",
  }),
  sbom: Flags.string({ description: "accepted for buildx's sake: no attestation is made (false is silent)" }),
  rm: Flags.boolean({ description: 'ignored, as BuildKit does', hidden: true, default: true, allowNo: true }),
  'force-rm': Flags.boolean({ description: 'ignored, as BuildKit does', hidden: true, default: false }),
  ...classicFlags,
};

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
export function parseRunFlags(f: RunFlagValues): Partial<BuildOptions> {
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
