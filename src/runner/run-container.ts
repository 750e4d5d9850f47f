import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCgroupParent, removeCgroupParent, wasOomKilled } from './cgroups.js';
import { RunnerError } from './errors.js';
import { hostsFile, resolvConf } from './etc-files.js';
import { OutputTail } from './output-tail.js';
import { mountAll, unmountAll } from './rootfs.js';
import { runcRun, runtimeCommand, signalFromExitCode, stateExists } from './runc.js';
import { detectRuntime } from './runtime.js';
import { cleanContainerPath } from './secure-join.js';
import { buildSpec, processEnv } from './spec.js';
import {
  findMissingPaths,
  overlayDirs,
  pruneCopiedUpParents,
  removeStubs,
  type StubParent,
  stubParents,
} from './stubs.js';
import type { RunContainerOptions, RunResult } from './types.js';
import { resolveUser } from './user.js';
import { ensureWorkdir } from './workdir.js';

/** BuildKit's hostname for build containers; Dockerfiles that print it expect this. */
export const DEFAULT_HOSTNAME = 'buildkitsandbox';

/** Mount points of the system mounts: runc creates them when the image lacks them. */
const SYSTEM_TARGETS = ['/proc', '/dev', '/sys', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname'];

export function cancelledError(cause?: unknown): RunnerError {
  return new RunnerError('RUN_CANCELLED', 'the step was cancelled', { cause });
}

interface Bundle {
  dir: string;
  rootfsDir: string;
  mounted: boolean;
  /** parents of stubs to prune from the upper once unmounted */
  prune?: StubParent[];
}

function writeEtcFiles(bundle: string, o: RunContainerOptions, hostname: string) {
  const etc = join(bundle, 'etc');
  mkdirSync(etc, { recursive: true });
  const files = {
    hosts: join(etc, 'hosts'),
    resolvConf: join(etc, 'resolv.conf'),
    hostname: join(etc, 'hostname'),
  };
  writeFileSync(files.hosts, hostsFile(hostname, o.extraHosts));
  writeFileSync(files.resolvConf, resolvConf(o.network ?? 'host'));
  writeFileSync(files.hostname, `${hostname}\n`);
  return files;
}

/** Removes the bundle's own files; never recursive through the rootfs (it may still be a mount). */
function removeBundle(b: Bundle): void {
  rmSync(join(b.dir, 'config.json'), { force: true });
  rmSync(join(b.dir, 'etc'), { recursive: true, force: true });
  for (const d of [join(b.dir, 'rootfs'), b.dir]) {
    try {
      rmdirSync(d);
    } catch {
      // a rootfs that could not be unmounted stays rather than be deleted through
    }
  }
}

/**
 * Runs one process in a new container: mounts the rootfs (if given as mounts), writes the bundle,
 * runs runc, streams output, and always leaves no container state, no mounts and no processes
 * behind, on success, failure or abort. A non-zero exit is a result, not an error; an abort throws
 * RUN_CANCELLED after the cleanup.
 */
export async function runContainer(o: RunContainerOptions): Promise<RunResult> {
  if (o.signal?.aborted) throw cancelledError(o.signal.reason);
  const runtime = detectRuntime();
  const id = o.id ?? `tsb-${randomBytes(8).toString('hex')}`;
  const dir = join(o.root, 'runner', id);
  mkdirSync(dir, { recursive: true });
  const b: Bundle = {
    dir,
    rootfsDir: 'dir' in o.rootfs ? o.rootfs.dir : join(dir, 'rootfs'),
    mounted: false,
  };
  const started = Date.now();
  let cgroup: ReturnType<typeof createCgroupParent> | undefined;
  try {
    if ('mounts' in o.rootfs) {
      mkdirSync(b.rootfsDir, { recursive: true });
      await mountAll(o.rootfs.mounts, b.rootfsDir);
      b.mounted = true;
    }
    const user = resolveUser(b.rootfsDir, o.process.user);
    const cwd = ensureWorkdir(b.rootfsDir, cleanContainerPath(o.process.cwd ?? '/'));
    const hostname = o.hostname ?? DEFAULT_HOSTNAME;
    const etcFiles = writeEtcFiles(dir, o, hostname);
    const mounts = (o.mounts ?? []).map((m) => ({ ...m, target: cleanContainerPath(m.target, cwd) }));
    const targets = [...SYSTEM_TARGETS, ...mounts.map((m) => m.target)];
    const missing = findMissingPaths(b.rootfsDir, targets);
    cgroup = createCgroupParent(id, o.limits);
    const spec = buildSpec({
      args: o.process.args,
      env: processEnv(o.process.env ?? [], user),
      cwd,
      user,
      hostname,
      network: o.network ?? 'host',
      etcFiles,
      mounts,
      limits: o.limits ?? {},
      cgroupsPath: cgroup.runtimePath,
      limitsInSpec: cgroup.limitsInSpec,
      rootPath: b.rootfsDir,
    });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    const tail = new OutputTail();
    const runOpts = {
      runtime,
      bundle: dir,
      id,
      runtimeRoot: o.runtimeRoot,
      signal: o.signal,
      killGraceMs: o.killGraceMs ?? 2000,
      onStdout: (c: Buffer) => {
        tail.push(c);
        o.onStdout?.(c);
      },
      onStderr: (c: Buffer) => {
        tail.push(c);
        o.onStderr?.(c);
      },
    };
    const { exitCode, aborted } = await runcRun(runOpts);
    if (aborted || stateExists(runOpts)) await runtimeCommand(runOpts, ['delete', '-f', id]);
    const oomKilled = wasOomKilled(cgroup, exitCode);
    removeStubs(b.rootfsDir, missing);
    if (b.mounted) b.prune = stubParents(b.rootfsDir, targets, missing);
    if (aborted) throw cancelledError(o.signal?.reason);
    const signal = signalFromExitCode(exitCode);
    return {
      exitCode,
      ...(signal ? { signal } : {}),
      oomKilled,
      outputTail: tail.get(),
      durationMs: Date.now() - started,
      containerId: id,
    };
  } finally {
    if (cgroup) removeCgroupParent(cgroup);
    if (b.mounted) {
      await unmountAll(b.rootfsDir);
      const m = 'mounts' in o.rootfs ? o.rootfs.mounts[0] : undefined;
      const dirs = m?.type === 'overlay' ? overlayDirs(m.options, m.cwd) : undefined;
      if (dirs && b.prune) pruneCopiedUpParents(dirs.upper, dirs.lowers, b.prune);
    }
    removeBundle(b);
  }
}
