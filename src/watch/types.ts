import type { BuildOptions, BuildResult } from '../build.js';
import type { ProgressSink } from '../progress/index.js';

/** The shape of `build()`: the watch loop takes it injected so its logic is testable on its own. */
export type BuildFn = (options: BuildOptions) => Promise<BuildResult>;

/** `--run`: run the built image as a container and restart it after each good rebuild. */
export interface RunOptions {
  /** Replaces the image's Cmd (as `docker run IMAGE CMD…` does); Entrypoint stays. */
  args?: string[];
  /** How long the StopSignal may take before SIGKILL, ms (default 10000, as `docker stop`). */
  stopTimeoutMs?: number;
  /**
   * A small init as PID 1 that forwards the StopSignal to the app (`docker run --init`), default true:
   * without it an app with no handler for it (busybox httpd) only stops at the SIGKILL.
   */
  init?: boolean;
  /** Runner root for `runc --root` (tests); default runc's own so `runc list` shows the app. */
  runtimeRoot?: string;
}

export interface WatchOptions {
  /** What each build gets (minus `signal` and `progress`, which the loop supplies). */
  build: Omit<BuildOptions, 'signal' | 'progress'>;
  /** Quiet period after the last change before a rebuild starts, ms (default 100). */
  debounceMs?: number;
  /** A shell command run after each good build with TSBUILD_IMAGE and TSBUILD_DIGEST in its env. */
  exec?: string;
  run?: RunOptions;
  /**
   * Start a rebuild at the first change, while the quiet period runs, and show it only once that
   * is over (cancelled silently if another change comes first). Default: on with the real build.
   */
  speculate?: boolean;
  /** Default: the real `build` from `src/build.ts`. */
  buildFn?: BuildFn;
  /** A progress sink for build number `n` (0 = the initial build); undefined = none. */
  progress?: (n: number) => ProgressSink | undefined;
  /** Everything the loop does, for the CLI to print. */
  onEvent?: (event: WatchEvent) => void;
  /** Stops watching; `watch()` resolves once the build in flight, the app and the watcher are gone. */
  signal?: AbortSignal;
}

/** One line per build: what changed, what ran, how long, which image. */
export interface RebuildSummary {
  /** 0 = the initial build. */
  n: number;
  /** Context paths (relative, `/`-separated) changed since the last completed build. */
  changed: string[];
  stepsRun: number;
  stepsCached: number;
  /** Wall time from the start of the build to the end of the after-build hooks, ms. */
  duration: number;
  digest: string;
  tags: string[];
}

export type WatchEvent =
  | { type: 'ready'; context: string; paths: number; at: number }
  | { type: 'change'; paths: string[]; at: number }
  | { type: 'build-start'; n: number; changed: string[]; at: number }
  | { type: 'build-cancelled'; n: number; at: number }
  | { type: 'build-done'; summary: RebuildSummary; result: BuildResult; at: number }
  | { type: 'build-failed'; n: number; error: unknown; changed: string[]; at: number }
  | { type: 'exec-done'; command: string; exitCode: number; signal?: string; at: number }
  | { type: 'app-start'; containerId: string; digest: string; at: number }
  | { type: 'app-output'; stream: 'stdout' | 'stderr'; line: string; at: number }
  | { type: 'app-exit'; containerId: string; exitCode: number; signal?: string; stopped: boolean; at: number }
  | { type: 'app-error'; error: unknown; at: number }
  | { type: 'watcher-error'; error: unknown; at: number };
