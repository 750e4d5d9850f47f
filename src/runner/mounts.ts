import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { cacheMountsDir } from '../store/index.js';
import { RunnerError } from './errors.js';
import { acquireLock, tryLock, unlock } from './lock.js';
import { privateDir } from './private-dir.js';
import { mountOnHost, unmountOnHost } from './rootfs.js';
import { secureJoin } from './secure-join.js';
import type { SshSource } from './ssh-agent.js';
import { sshAgentProxy } from './ssh-proxy.js';
import type { ContainerMount } from './types.js';

const exec = promisify(execFile);

/** A `RUN --mount` spec: structurally the parser's `RunMount` (the runner may not import the parser). */
export interface RunMountSpec {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  from?: string;
  /** What `from` is now (its snapshot): a cache seeded from it is another cache once it changes. */
  fromIdentity?: string;
  source?: string;
  target?: string;
  readOnly: boolean;
  required?: boolean;
  sharing?: 'shared' | 'private' | 'locked';
  id?: string;
  uid?: number;
  gid?: number;
  mode?: number;
  size?: number;
  env?: string;
  /** A cache of a step run with `--no-cache`: it starts over, and what it leaves is the cache now. */
  fresh?: boolean;
}

/** `--secret id=…,src=…` or `--secret id=…,env=…`. */
export interface RunSecretSource {
  src?: string;
  env?: string;
}

export interface RunMountContext {
  /** the tsbuild state root: cache mounts live in `<root>/cache-mounts/` */
  root: string;
  /** the build context dir: the source of `type=bind` without `from` */
  contextDir?: string;
  /** host dir of a stage's or image's rootfs for `from=` (the solver resolves and keeps it mounted) */
  resolveFrom?: (from: string) => Promise<string> | string;
  secrets?: Record<string, RunSecretSource>;
  /** `--ssh id=…`: agent sockets or key files by id (`default` is usually $SSH_AUTH_SOCK) */
  ssh?: Record<string, SshSource>;
  /** the step's working dir: relative targets are relative to it */
  cwd?: string;
  /** where secret files are written: a tmpfs (default /dev/shm) so they never touch a disk */
  secretsDir?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface ResolvedRunMounts {
  mounts: ContainerMount[];
  /** env entries the step gets (secret `env=`, SSH_AUTH_SOCK) */
  env: string[];
  /** unlocks caches, removes secret copies and scratch dirs; call after the run, always */
  release(): Promise<void>;
}

type Cleanup = () => Promise<void> | void;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function fromBase(spec: RunMountSpec, ctx: RunMountContext): Promise<string> {
  if (spec.from) {
    if (!ctx.resolveFrom)
      throw new RunnerError('RUNNER_MOUNT_FROM', `cannot resolve mount from=${spec.from}`);
    return ctx.resolveFrom(spec.from);
  }
  if (!ctx.contextDir)
    throw new RunnerError('RUNNER_MOUNT_FROM', 'a bind mount without from= needs the build context');
  return ctx.contextDir;
}

/** `uid`, `gid` and `mode` shape a cache only where BuildKit's frontend uses them: no `source`. */
function cacheSettings(spec: RunMountSpec): boolean {
  const whole = spec.source === undefined || posix.join('/', spec.source) === '/';
  return whole && (spec.uid !== undefined || spec.gid !== undefined || spec.mode !== undefined);
}

/**
 * The dir of a cache: BuildKit keys a cache by its id and by the ref it starts from (mounts.go
 * getRefCacheDir: `id:ref.ID()`). A plain cache starts from scratch (the id alone); one with
 * uid/gid/mode from a dir made with them, so each setting is a cache of its own; one with `from`
 * from that stage or image as it is now, so it starts over when that changes.
 */
function cacheKeyOf(spec: RunMountSpec, id: string): string {
  const settings = cacheSettings(spec) ? ['mkdir', spec.mode ?? 0o755, spec.uid ?? 0, spec.gid ?? 0] : [];
  const from = spec.from === undefined ? '' : `${spec.from}@${spec.fromIdentity ?? ''}`;
  // The id is hashed into the dir name, so no id (`../..`, `/etc`) can point outside cache-mounts/.
  return sha(JSON.stringify([id, from, spec.source ?? '', ...settings]));
}

async function cacheMount(spec: RunMountSpec, target: string, ctx: RunMountContext, cleanups: Cleanup[]) {
  const id = spec.id || target;
  const key = cacheKeyOf(spec, id);
  const base = cacheMountsDir(ctx.root);
  mkdirSync(base, { recursive: true });
  let dir = join(base, key);
  const sharing = spec.sharing ?? 'shared';
  if (sharing === 'locked') {
    cleanups.push(await acquireLock(`${dir}.lock`, ctx.signal));
  } else if (sharing === 'private') {
    if (tryLock(`${dir}.lock`)) cleanups.push(() => unlock(`${dir}.lock`));
    else {
      // In use by another step: this one gets a fresh dir of its own, dropped afterwards.
      const priv = join(base, `${key}.private-${randomBytes(6).toString('hex')}`);
      cleanups.push(() => rmSync(priv, { recursive: true, force: true }));
      dir = priv;
    }
  }
  // BuildKit clears the cache mounts of a step it runs without cache (moby/buildkit#2447, #5306).
  if (spec.fresh && existsSync(dir)) {
    const old = `${dir}.old-${randomBytes(6).toString('hex')}`;
    renameSync(dir, old);
    rmSync(old, { recursive: true, force: true });
  }
  if (!existsSync(dir)) await createCacheDir(dir, spec, ctx);
  return { target, type: 'bind' as const, source: dir, readonly: spec.readOnly };
}

async function createCacheDir(dir: string, spec: RunMountSpec, ctx: RunMountContext): Promise<void> {
  const tmp = `${dir}.new-${randomBytes(6).toString('hex')}`;
  mkdirSync(tmp);
  if (spec.from && !cacheSettings(spec)) {
    // A copy of the source dir as it is, its own mode and owner included (BuildKit mounts a
    // snapshot of the ref); uid/gid/mode with a source are ignored, as BuildKit's frontend does.
    const src = secureJoin(await fromBase(spec, ctx), spec.source ?? '/');
    await exec('cp', ['-a', '--', `${src}/.`, tmp]);
    const st = statSync(src);
    chmodSync(tmp, st.mode & 0o7777);
    chownSync(tmp, st.uid, st.gid);
  } else {
    const set = cacheSettings(spec);
    chmodSync(tmp, set ? (spec.mode ?? 0o755) : 0o755);
    chownSync(tmp, set ? (spec.uid ?? 0) : 0, set ? (spec.gid ?? 0) : 0);
  }
  // Renamed into place whole: a concurrent first use never sees a half-seeded cache.
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** BuildKit's limit: secrets are small, so they may be held in memory (an env= needs the value). */
export const MAX_SECRET_BYTES = 500 * 1024;

function readSecretFile(id: string, path: string): Buffer {
  const st = statSync(path);
  if (!st.isFile())
    throw new RunnerError('RUNNER_SECRET_INVALID', `secret ${id}: ${path} is not a regular file`);
  if (st.size > MAX_SECRET_BYTES) {
    throw new RunnerError(
      'RUNNER_SECRET_INVALID',
      `secret ${id} is too big: ${st.size} bytes, the limit is 500 KiB`,
    );
  }
  return readFileSync(path);
}

function secretMount(
  spec: RunMountSpec,
  target: string | undefined,
  ctx: RunMountContext,
  cleanups: Cleanup[],
) {
  const id = spec.id || (spec.target ? basename(spec.target) : '');
  const src = ctx.secrets?.[id];
  let value: Buffer | undefined;
  if (src?.src !== undefined) value = readSecretFile(id, src.src);
  else if (src?.env !== undefined && (ctx.env ?? process.env)[src.env] !== undefined) {
    value = Buffer.from((ctx.env ?? process.env)[src.env]!);
  }
  if (value === undefined) {
    if (spec.required) {
      throw new RunnerError('RUNNER_SECRET_MISSING', `secret ${id} not found`, {
        hint: `pass it with --secret id=${id},src=FILE (or env=VAR)`,
      });
    }
    return { mount: undefined, env: [] };
  }
  const env = spec.env ? [`${spec.env}=${value.toString('utf8')}`] : [];
  if (spec.env && !spec.target) return { mount: undefined, env };
  const dir = privateDir(ctx.secretsDir ?? '/dev/shm', 'secret');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'secret');
  writeFileSync(file, value, { mode: 0o400 });
  chmodSync(file, spec.mode ?? 0o400);
  chownSync(file, spec.uid ?? 0, spec.gid ?? 0);
  const mount: ContainerMount = {
    target: target ?? `/run/secrets/${id}`,
    type: 'bind',
    source: file,
    readonly: true,
    // BuildKit's secret mounts: read-only, nosuid, nodev, noexec.
    options: ['nosuid', 'nodev', 'noexec'],
  };
  return { mount, env };
}

async function bindMount(spec: RunMountSpec, target: string, ctx: RunMountContext, cleanups: Cleanup[]) {
  const base = await fromBase(spec, ctx);
  // securejoin: `source=../../etc` or a symlink in the context resolve inside the base.
  const src = secureJoin(base, spec.source ?? '/');
  if (!existsSync(src))
    throw new RunnerError('RUNNER_MOUNT_SOURCE', `bind source ${spec.source ?? '/'} not found`);
  if (spec.readOnly) return { target, type: 'bind' as const, source: src, readonly: true };
  // rw: writes must not reach the context or the stage, so the step gets a throw-away copy-on-write view.
  const scratch = join(ctx.root, 'tmp', `bind-${randomBytes(8).toString('hex')}`);
  mkdirSync(scratch, { recursive: true });
  cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
  if (!statSync(src).isDirectory()) {
    await exec('cp', ['-a', '--', src, join(scratch, 'file')]);
    return { target, type: 'bind' as const, source: join(scratch, 'file'), readonly: false };
  }
  const merged = join(scratch, 'merged');
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(scratch, d));
  await mountOnHost(
    [
      {
        type: 'overlay',
        source: 'overlay',
        options: [`lowerdir=${src}`, `upperdir=${scratch}/upper`, `workdir=${scratch}/work`],
      },
    ],
    merged,
  );
  cleanups.push(() => unmountOnHost(merged).catch(() => undefined));
  return { target, type: 'bind' as const, source: merged, readonly: false };
}

async function sshMount(
  spec: RunMountSpec,
  target: string | undefined,
  index: number,
  ctx: RunMountContext,
  cleanups: Cleanup[],
) {
  const id = spec.id || 'default';
  // Only the sockets the build was given (`--ssh`), as BuildKit forwards only those: the caller's
  // own SSH_AUTH_SOCK is the default only when no `ssh` map is passed at all (the runner alone).
  const own = id === 'default' ? (ctx.env ?? process.env).SSH_AUTH_SOCK : undefined;
  const source = ctx.ssh ? ctx.ssh[id] : own ? { socket: own } : undefined;
  const t = target ?? `/run/buildkit/ssh_agent.${index}`;
  if (!source) {
    if (!spec.required) return { t };
    throw new RunnerError('RUNNER_SSH_MISSING', `no SSH agent socket for id ${id}`, {
      hint: 'pass --ssh default (with SSH_AUTH_SOCK set) or --ssh id=/path/to/socket',
    });
  }
  const proxy = await sshAgentProxy(source, {
    dir: ctx.secretsDir ?? '/dev/shm',
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    ...(spec.mode !== undefined ? { mode: spec.mode } : {}),
  });
  cleanups.push(() => proxy.close());
  return { mount: { target: t, type: 'bind' as const, source: proxy.path, readonly: false }, t };
}

/**
 * Turns `RUN --mount` specs into host-path mounts for runContainer. Cache dirs persist per id under
 * `<root>/cache-mounts/<sha256(id…)>`; secrets are copied to a tmpfs file bind-mounted read-only (or
 * given as env); binds resolve inside their base; tmpfs passes its size. Call `release()` afterwards.
 */
export async function resolveRunMounts(
  specs: RunMountSpec[],
  ctx: RunMountContext,
): Promise<ResolvedRunMounts> {
  const cleanups: Cleanup[] = [];
  const mounts: ContainerMount[] = [];
  const env: string[] = [];
  const release = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    cleanups.length = 0;
  };
  const abs = (t: string | undefined) =>
    t === undefined ? undefined : posix.resolve('/', ctx.cwd ?? '/', t);
  try {
    let sshIndex = 0;
    for (const spec of specs) {
      const target = abs(spec.target);
      if (spec.type === 'cache' || spec.type === 'bind' || spec.type === 'tmpfs') {
        if (!target) throw new RunnerError('RUNNER_MOUNT_TARGET', `--mount type=${spec.type} needs a target`);
      }
      if (spec.type === 'cache') mounts.push(await cacheMount(spec, target!, ctx, cleanups));
      else if (spec.type === 'bind') mounts.push(await bindMount(spec, target!, ctx, cleanups));
      else if (spec.type === 'tmpfs') {
        const options = ['mode=1777', ...(spec.size !== undefined ? [`size=${spec.size}`] : [])];
        mounts.push({ target: target!, type: 'tmpfs', options });
      } else if (spec.type === 'secret') {
        const s = secretMount(spec, target, ctx, cleanups);
        if (s.mount) mounts.push(s.mount);
        env.push(...s.env);
      } else if (spec.type === 'ssh') {
        const s = await sshMount(spec, target, sshIndex++, ctx, cleanups);
        if (s.mount) mounts.push(s.mount);
        // Set even when an optional agent is missing: BuildKit's frontend sets it for the first.
        if (!env.some((e) => e.startsWith('SSH_AUTH_SOCK='))) env.push(`SSH_AUTH_SOCK=${s.t}`);
      } else {
        throw new RunnerError(
          'RUNNER_MOUNT_TYPE',
          `unsupported mount type ${(spec as { type: string }).type}`,
        );
      }
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { mounts, env, release };
}
