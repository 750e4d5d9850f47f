import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAndUnmountSync, registerRun, sweepStaleRuns } from './active-runs.js';
import { bundleRoot } from './bundle-dir.js';
import { type CgroupParent, createCgroupParent, removeCgroupParent, wasOomKilled } from './cgroups.js';
import { deadManSwitch } from './dead-man.js';
import { RunnerError } from './errors.js';
import { hostsFile, resolvConf } from './etc-files.js';
import { OutputTail } from './output-tail.js';
import { mountHost, planRootfs, type RootfsPlan, unmountHost } from './rootfs.js';
import { type RuncRunOptions, runcRun, runtimeCommand, signalFromExitCode, stateExists } from './runc.js';
import { detectRuntime, type OciRuntime } from './runtime.js';
import { cleanContainerPath } from './secure-join.js';
import { buildSpec, processEnv, type RuntimeSpec, specJson } from './spec.js';
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
  plan?: RootfsPlan;
  mounted: boolean;
  /** parents of stubs to prune from the upper once nothing has it mounted */
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

function sweepOnce(bundles: string, runtimePath: string, runtimeRoot?: string): void {
  const key = `${bundles}\0${runtimeRoot ?? ''}`;
  if (swept.has(key)) return;
  swept.add(key);
  sweepStaleRuns(bundles, runtimePath, runtimeRoot);
}

interface Prepared {
  spec: RuntimeSpec;
  targets: string[];
  missing: string[];
}

/** Everything before runc: user, workdir, /etc files, stub bookkeeping, the spec. */
function prepareBundle(o: RunContainerOptions, b: Bundle, plan: RootfsPlan, cgroup: CgroupParent): Prepared {
  const user = resolveUser(plan.view, o.process.user);
  // With the overlay mounted by runc, runc creates a missing cwd itself (root-owned 0755, as
  // BuildKit's executor does); on a mounted dir we create it the same way.
  const cwd =
    plan.kind === 'runtime'
      ? cleanContainerPath(o.process.cwd ?? '/')
      : ensureWorkdir(plan.dir, cleanContainerPath(o.process.cwd ?? '/'));
  const hostname = o.hostname ?? DEFAULT_HOSTNAME;
  const etcFiles = writeEtcFiles(b.dir, o, hostname);
  const mounts = (o.mounts ?? []).map((m) => ({ ...m, target: cleanContainerPath(m.target, cwd) }));
  const targets = [...SYSTEM_TARGETS, ...mounts.map((m) => m.target)];
  if (plan.kind === 'runtime' && cwd !== '/') targets.push(cwd);
  const missing = findMissingPaths(plan.view, targets);
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
    rootPath: plan.dir,
    ...(plan.kind === 'runtime' ? { rootMount: plan.mount } : {}),
    ...(o.privileged ? { privileged: true } : {}),
    ...(o.rlimits ? { rlimits: o.rlimits } : {}),
    ...(o.shmSize ? { shmSize: o.shmSize } : {}),
  });
  return { spec, targets, missing: missing.filter((p) => !(plan.kind === 'runtime' && isCwdChain(p, cwd))) };
}

/** The cwd and its parents are the step's (WORKDIR-like) dirs, not stubs to remove. */
function isCwdChain(p: string, cwd: string): boolean {
  return cwd === p || cwd.startsWith(`${p}/`);
}

/** runc run, with the caller's and the process-exit safety net's abort signals. */
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
  const running = runcRun(runOpts);
  // Armed once runc is spawned, not before: the first step's watcher spawn (a fork of this whole
  // process, ~10 ms of main thread) then overlaps runc's own start-up (~70 ms before the step's
  // process runs) instead of delaying it. A kill -9 in between only leaves the container for the
  // next run's sweep, as a kill did before the watcher existed.
  const disarm = deadManSwitch(id, runtime.path, o.runtimeRoot);
  try {
    const outcome = await running;
    if (outcome.aborted || stateExists(runOpts)) await runtimeCommand(runOpts, ['delete', '-f', id]);
    return { ...outcome, reason: o.signal?.reason ?? internal.signal.reason };
  } finally {
    disarm();
  }
}

function upperAndLowers(plan: RootfsPlan): { upper: string; lowers: string[] } | undefined {
  if (plan.kind === 'runtime') return plan;
  const m = plan.kind === 'host' ? plan.source.mounts[0] : undefined;
  return m?.type === 'overlay' ? overlayDirs(m.options, m.cwd) : undefined;
}

/** After the run: stubs out, unmount, prune stub parents from the upper, remove the bundle. */
async function teardown(
  b: Bundle,
  cgroup: CgroupParent | undefined,
  prep: Prepared | undefined,
): Promise<void> {
  const plan = b.plan;
  if (plan && prep) {
    // runtime: the overlay is gone with the container's mount namespace, so the upper is edited directly
    removeStubs(plan.kind === 'runtime' ? plan.upper : plan.dir, plan.view, prep.missing);
    b.prune = stubParents(plan.view, prep.targets, prep.missing);
  }
  // The unmount (a process spawn) overlaps the cheap local cleanup.
  const unmounting = b.mounted && plan ? unmountHost(plan) : Promise.resolve();
  const uncgrouping = cgroup ? removeCgroupParent(cgroup) : Promise.resolve();
  for (const f of ['config.json', 'owner', 'etc']) rmSync(join(b.dir, f), { recursive: true, force: true });
  await Promise.all([unmounting, uncgrouping]);
  const dirs = plan ? upperAndLowers(plan) : undefined;
  if (dirs && b.prune) pruneCopiedUpParents(dirs.upper, dirs.lowers, b.prune);
  for (const d of [join(b.dir, 'rootfs'), b.dir]) {
    try {
      rmdirSync(d);
    } catch {
      // a rootfs that could not be unmounted stays rather than be deleted through
    }
  }
}

/**
 * Runs one process in a new container: plans the root (see RootfsPlan), writes the bundle, runs
 * runc, streams output, and always leaves no container state, no mounts and no processes behind, on
 * success, failure or abort. A non-zero exit is a result, not an error; an abort throws RUN_CANCELLED
 * after the cleanup.
 */
export async function runContainer(o: RunContainerOptions): Promise<RunResult> {
  if (o.signal?.aborted) throw cancelledError(o.signal.reason);
  const runtime = detectRuntime();
  const bundles = bundleRoot(o.root);
  sweepOnce(bundles, runtime.path, o.runtimeRoot);
  const id = o.id ?? `tsb-${randomBytes(8).toString('hex')}`;
  const b: Bundle = { dir: join(bundles, id), mounted: false };
  mkdirSync(b.dir, { recursive: true });
  // The owner pid lets a later tsbuild tell a live run from one a kill -9 left behind.
  writeFileSync(join(b.dir, 'owner'), String(process.pid));
  const started = Date.now();
  let cgroup: CgroupParent | undefined;
  let prep: Prepared | undefined;
  // Registered for the whole run, so a signal-triggered exit waits for the teardown too.
  const internal = new AbortController();
  const unregister = registerRun(id, {
    abort: () => internal.abort(new Error('interrupted')),
    syncCleanup: () =>
      killAndUnmountSync({
        runtimePath: runtime.path,
        runtimeRoot: o.runtimeRoot,
        id,
        rootfsDir: b.mounted ? b.plan?.dir : undefined,
      }),
  });
  try {
    const plan = planRootfs(o.rootfs, b.dir);
    b.plan = plan;
    await mountHost(plan);
    b.mounted = plan.kind === 'host';
    cgroup = createCgroupParent(id, o.limits);
    prep = prepareBundle(o, b, plan, cgroup);
    writeFileSync(join(b.dir, 'config.json'), specJson(prep.spec));
    if (internal.signal.aborted) throw cancelledError(internal.signal.reason);
    const tail = new OutputTail();
    const { exitCode, aborted, reason, startFailed } = await execute(o, runtime, b, id, tail, internal);
    const oomKilled = wasOomKilled(cgroup, exitCode);
    if (aborted) throw cancelledError(reason);
    const signal = signalFromExitCode(exitCode);
    return {
      exitCode,
      ...(startFailed ? { startFailed } : {}),
      ...(signal ? { signal } : {}),
      oomKilled,
      outputTail: tail.get(),
      durationMs: Date.now() - started,
      containerId: id,
    };
  } finally {
    await teardown(b, cgroup, prep);
    unregister();
  }
}
