import type { ObservedStat } from './context/index.js';
import type { ProgressSink } from './progress/events.js';
import type { Rlimit } from './runner/index.js';

/** One `--ulimit` (the runner's `Rlimit`): the name without `RLIMIT_`, soft and hard; -1 is unlimited. */
export type Ulimit = Rlimit;

/** Per-RUN resource limits, as `docker build`/buildah name them. */
export interface BuildLimits {
  /** bytes; the step is OOM-killed beyond it (no extra swap) */
  memory?: number;
  /** CFS quota, microseconds per `cpuPeriod` */
  cpuQuota?: number;
  /** CFS period, microseconds (default 100000) */
  cpuPeriod?: number;
  /** fractional CPUs (quota = cpus × period) */
  cpus?: number;
  pidsLimit?: number;
}

/** Options of one build: the library form of `tsbuild build`'s flags. */
export interface BuildOptions {
  /** State root (store, cache, tags). */
  root: string;
  /** Build context directory. */
  context: string;
  /**
   * The context keeps its owners (a tar read from stdin, extracted with them): COPY and a bind
   * mount show them, as BuildKit shows a tarball context's. A directory context is sent with every
   * id reset to 0 by the docker CLI, and so is taken here (the default).
   */
  contextKeepsOwners?: boolean;
  /** Dockerfile path, `-` for stdin (then `dockerfileText` or process.stdin), default CONTEXT/Dockerfile. */
  file?: string;
  /** Dockerfile contents given directly (takes precedence over `file`). */
  dockerfileText?: string;
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
  /**
   * `--build-context name=value` (buildx): `docker-image://REF` or `oci-layout://PATH[:TAG][@DIGEST]`
   * stands in for the image or stage `name`, a directory (relative to the working directory) is a
   * named local context, a git URL the tree of its commit, another http(s) URL its download as `/context`.
   */
  buildContexts?: Record<string, string>;
  labels?: Record<string, string>;
  /** `--annotation [manifest:|index:]KEY=VALUE` (buildx): the image manifest's, or the index's. */
  annotations?: string[];
  platform?: string;
  noCache?: boolean;
  /** Always resolve base images in the registry (default: use a local copy when there is one). */
  pull?: boolean;
  noCacheFilter?: string[];
  /** `type=...,dest=...` strings as `--output` takes them. */
  outputs?: string[];
  /** buildx `--load`: the local image store as one of the outputs (the default without outputs). */
  load?: boolean;
  push?: boolean;
  iidfile?: string;
  metadataFile?: string;
  network?: 'default' | 'none' | 'host';
  /** `--add-host`: `name:ip` lines added to /etc/hosts of every RUN. */
  addHosts?: string[];
  /** `--ulimit`s of every RUN. */
  ulimits?: Ulimit[];
  /** `--shm-size`: bytes of /dev/shm in every RUN (default 64 MiB). */
  shmSize?: number;
  /** Entitlements (`--allow`): `security.insecure` lets `RUN --security=insecure` run privileged. */
  allow?: string[];
  /** `id=x,src=path` or `id=x,env=VAR` strings as `--secret` takes them. */
  secrets?: string[];
  /** `default` or `id=path` strings as `--ssh` takes them. */
  ssh?: string[];
  maxParallelism?: number;
  /** Resource limits of every RUN step (`--memory`, `--cpu-quota`/`--cpus`, `--pids-limit`). */
  limits?: BuildLimits;
  /** Registries reached over plain HTTP or unverified TLS (`--insecure-registry host[:port]`). */
  insecureRegistries?: string[];
  /** Force the store's snapshotter (default: overlay when it mounts on this host, else copy). */
  snapshotter?: 'overlay' | 'copy';
  progress?: ProgressSink;
  signal?: AbortSignal;
  /**
   * Watch mode's speculative build: solve now, but write nothing (image, tags, outputs) until this
   * resolves; the signal cancels the wait.
   */
  exportGate?: Promise<void>;
  /**
   * An image output without a name is recorded as an untagged image (Docker's `<none>`), found by
   * ID until `prune`, and so is the image a `-t` tag moved away from; default true. Watch passes
   * false: each rebuild supersedes the last.
   */
  keepUntagged?: boolean;
  /** Flags taken for docker's sake that do nothing here (`--provenance x`): each gets a warning. */
  ignoredFlags?: string[];
  /**
   * `--cache-from` / `--cache-to` as buildx takes them: `type=registry,ref=R` (or a bare `R`),
   * `type=local,src=DIR` / `dest=DIR`, `mode=min|max`, `ignore-error=true`. Other backends (inline,
   * gha, s3, azblob) are taken with a warning and do nothing.
   */
  cacheFrom?: string[];
  cacheTo?: string[];
  /** State kept between the builds of one watch (see `createBuildSession`); optional. */
  session?: BuildSession;
  /** Told, after a successful build, what it read (the CLI's no-op check, `cli/noop-record.ts`). */
  observe?: (inputs: BuildInputs) => void;
}

/** What a build read of the context: with the same Dockerfile and flags, the same build. */
export interface BuildInputs {
  /** The context scan's stats and when it began (none: no step read the context). */
  context?: { dir: string; observed: ObservedStat[]; since: number };
  /** Sources outside the context and the store (ADD of a URL): read anew by every build. */
  remote: boolean;
}

/**
 * What a series of builds (watch mode) reuses: the open store, base images as resolved by the first
 * build (kept unless `pull`), and the parsed Dockerfile while its text is the same. Plain data that
 * `runBuild` fills in; the owner calls `close()` when done.
 */
export interface BuildSession {
  store?: unknown;
  images?: Map<string, unknown>;
  parsed?: { text: string; value: unknown };
  close(): Promise<void>;
}

export function createBuildSession(): BuildSession {
  const session: BuildSession = {
    async close() {
      const store = session.store as { close?: () => Promise<void> } | undefined;
      session.store = undefined;
      await store?.close?.();
    },
  };
  return session;
}

export interface BuildResult {
  /** The image manifest digest (`sha256:…`). */
  digest: string;
  /** The image config digest (the image id, as `docker images` shows). */
  configDigest: string;
  manifest: unknown;
  config: unknown;
  tags: string[];
  /** Total size of the image's compressed layers + config + manifest, bytes. */
  size: number;
  stepsCached: number;
  stepsRun: number;
  /** Wall time, ms. */
  duration: number;
}

/** parse → convert → solve → commit → export. Cancel with `options.signal`. */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const { runBuild } = await import('./solver/run-build.js');
  return runBuild(options);
}
