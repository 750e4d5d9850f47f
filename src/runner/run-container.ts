import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAndUnmountSync, registerRun, sweepStaleRuns } from './active-runs.js';
import { type CgroupParent, createCgroupParent, removeCgroupParent, wasOomKilled } from './cgroups.js';
import { RunnerError } from './errors.js';
import { hostsFile, resolvConf } from './etc-files.js';
import { OutputTail } from './output-tail.js';
import { mountRootfs, unmountRootfs } from './rootfs.js';
import { type RuncRunOptions, runcRun, runtimeCommand, signalFromExitCode, stateExists } from './runc.js';
import { detectRuntime, type OciRuntime } from './runtime.js';
import { cleanContainerPath } from './secure-join.js';
import { buildSpec, processEnv, type RuntimeSpec } from './spec.js';
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

const swept = new Set<string>();

function sweepOnce(root: string, runtimePath: string, runtimeRoot?: string): void {
  const key = `${root}\0${runtimeRoot ?? ''}`;
  if (swept.has(key)) return;
  swept.add(key);
  sweepStaleRuns(root, runtimePath, runtimeRoot);
}

/** Removes the (emptied) bundle; never recursive through the rootfs, which may still be a mount. */
function removeBundleDirs(b: Bundle): void {
  for (const d of [join(b.dir, 'rootfs'), b.dir]) {
    try {
      rmdirSync(d);
    } catch {
      // a rootfs that could not be unmounted stays rather than be deleted through
    }
  }
}

interface Prepared {
  spec: RuntimeSpec;
  targets: string[];
  missing: string[];
}

/** Everything before runc: user, workdir, /etc files, stub bookkeeping, the spec. */
function prepareBundle(o: RunContainerOptions, b: Bundle, cgroup: CgroupParent): Prepared {
  const user = resolveUser(b.rootfsDir, o.process.user);
  const cwd = ensureWorkdir(b.rootfsDir, cleanContainerPath(o.process.cwd ?? '/'));
  const hostname = o.hostname ?? DEFAULT_HOSTNAME;
  const etcFiles = writeEtcFiles(b.dir, o, hostname);
  const mounts = (o.mounts ?? []).map((m) => ({ ...m, target: cleanContainerPath(m.target, cwd) }));
  const targets = [...SYSTEM_TARGETS, ...mounts.map((m) => m.target)];
  const missing = findMissingPaths(b.rootfsDir, targets);
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
  return { spec, targets, missing };
}

/** runc run, registered with the process-exit safety net while it runs. */
async function execute(
  o: RunContainerOptions,
  runtime: OciRuntime,
  b: Bundle,
  id: string,
  tail: OutputTail,
  internal: AbortController,
) {
  const runOpts: RuncRunOptions = {
    runtime,
    bundle: b.dir,
    id,
    runtimeRoot: o.runtimeRoot,
    signal: o.signal ? AbortSignal.any([o.signal, internal.signal]) : internal.signal,
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
  const outcome = await runcRun(runOpts);
  if (outcome.aborted || stateExists(runOpts)) await runtimeCommand(runOpts, ['delete', '-f', id]);
  return { ...outcome, reason: o.signal?.reason ?? internal.signal.reason };
}

/** After the run: unmount, prune stub parents from the upper, remove the bundle. Never throws. */
async function teardown(o: RunContainerOptions, b: Bundle, cgroup: CgroupParent | undefined): Promise<void> {
  // The unmount (a process spawn) overlaps the cheap local cleanup.
  const unmounting = b.mounted ? unmountRootfs(b.rootfsDir) : Promise.resolve();
  if (cgroup) removeCgroupParent(cgroup);
  for (const f of ['config.json', 'owner', 'etc']) rmSync(join(b.dir, f), { recursive: true, force: true });
  await unmounting;
  if (b.mounted) {
    const m = 'mounts' in o.rootfs ? o.rootfs.mounts[0] : undefined;
    const dirs = m?.type === 'overlay' ? overlayDirs(m.options, m.cwd) : undefined;
    if (dirs && b.prune) pruneCopiedUpParents(dirs.upper, dirs.lowers, b.prune);
  }
  removeBundleDirs(b);
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
  sweepOnce(o.root, runtime.path, o.runtimeRoot);
  const id = o.id ?? `tsb-${randomBytes(8).toString('hex')}`;
  const dir = join(o.root, 'runner', id);
  mkdirSync(dir, { recursive: true });
  // The owner pid lets a later tsbuild tell a live run from one a kill -9 left behind.
  writeFileSync(join(dir, 'owner'), String(process.pid));
  const b: Bundle = {
    dir,
    rootfsDir: 'dir' in o.rootfs ? o.rootfs.dir : join(dir, 'rootfs'),
    mounted: false,
  };
  const started = Date.now();
  let cgroup: CgroupParent | undefined;
  // Registered for the whole run, so a signal-triggered exit waits for the teardown too.
  const internal = new AbortController();
  const unregister = registerRun(id, {
    abort: () => internal.abort(new Error('interrupted')),
    syncCleanup: () =>
      killAndUnmountSync({
        runtimePath: runtime.path,
        runtimeRoot: o.runtimeRoot,
        id,
        rootfsDir: b.mounted ? b.rootfsDir : undefined,
      }),
  });
  try {
    if ('mounts' in o.rootfs) {
      mkdirSync(b.rootfsDir, { recursive: true });
      await mountRootfs(o.rootfs.mounts, b.rootfsDir);
      b.mounted = true;
    }
    cgroup = createCgroupParent(id, o.limits);
    const prep = prepareBundle(o, b, cgroup);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(prep.spec));
    const tail = new OutputTail();
    if (internal.signal.aborted) throw cancelledError(internal.signal.reason);
    const { exitCode, aborted, reason } = await execute(o, runtime, b, id, tail, internal);
    const oomKilled = wasOomKilled(cgroup, exitCode);
    removeStubs(b.rootfsDir, prep.missing);
    if (b.mounted) b.prune = stubParents(b.rootfsDir, prep.targets, prep.missing);
    if (aborted) throw cancelledError(reason);
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
    await teardown(o, b, cgroup);
    unregister();
  }
}
