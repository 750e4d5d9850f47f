/**
 * The runner's data model. Kept free of IO so the solver can build these values in pure code.
 */

import type { Mount } from '../store/index.js';

export type { Mount };

/** The root filesystem of a container: either mounts to mount (overlay of a snapshot) or a mounted dir. */
export type RootfsSource = { mounts: Mount[] } | { dir: string };

export type RunNetwork = 'host' | 'none';

/** The process as the Dockerfile describes it; `user` is the USER string (`name[:group]` or ids). */
export interface RunProcess {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: string;
  terminal?: false;
}

/** A user resolved from the rootfs' /etc/passwd and /etc/group. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** The home dir from /etc/passwd, `/` when unknown (Docker sets HOME from it). */
  home: string;
}

/** cgroup limits of a build (`--memory`, `--cpus`/`--cpu-quota`, `--pids-limit`). */
export interface RunLimits {
  /** bytes */
  memory?: number;
  /** CFS quota in microseconds per `cpuPeriod` (default period 100000). */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** a fractional number of CPUs: becomes quota = cpus * period. */
  cpus?: number;
  pidsLimit?: number;
}

/** One `--ulimit`: the name without `RLIMIT_`; -1 is unlimited. */
export interface Rlimit {
  name: string;
  soft: number;
  hard: number;
}

/** A mount in the container after `RUN --mount` resolution: host paths only. */
export interface ContainerMount {
  /** absolute path in the container */
  target: string;
  type: 'bind' | 'tmpfs';
  /** host path for binds; ignored for tmpfs */
  source?: string;
  readonly?: boolean;
  /** extra mount options, e.g. `size=1m`, `mode=1777` for tmpfs */
  options?: string[];
}

export interface RunContainerOptions {
  rootfs: RootfsSource;
  process: RunProcess;
  /** the tsbuild state root: bundles go to `<root>/runner/`, cache mounts to `<root>/cache-mounts/` */
  root: string;
  hostname?: string;
  network?: RunNetwork;
  mounts?: ContainerMount[];
  limits?: RunLimits;
  /** `--add-host` style extra lines for /etc/hosts: `name:ip` */
  extraHosts?: string[];
  /** `--ulimit`: process rlimits (`nofile`, …; -1 is unlimited) */
  rlimits?: Rlimit[];
  /** size of the /dev/shm tmpfs in bytes (default 64 MiB, Docker's) */
  shmSize?: number;
  signal?: AbortSignal;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** how long SIGTERM may take before SIGKILL on abort (ms, default 2000) */
  killGraceMs?: number;
  /** runc's state dir (`runc --root`), default runc's own (/run/runc) so `runc list` shows ours */
  runtimeRoot?: string;
  /** a fixed container id (default a random `tsb-…`) */
  id?: string;
  /** `RUN --security=insecure` (entitlement security.insecure): see `buildSpec` */
  privileged?: boolean;
}

export interface RunResult {
  /** as a shell reports it: 127 for a command not found, 126 for one not executable */
  exitCode: number;
  /** the process could not be started (runc itself exited 1) */
  startFailed?: boolean;
  /** the signal that ended the process, when it died of one (e.g. SIGKILL) */
  signal?: string;
  oomKilled: boolean;
  /** the last lines of stdout+stderr interleaved as received (at most 20) */
  outputTail: string[];
  durationMs: number;
  containerId: string;
}
