import type { ProgressSink } from './progress/events.js';

/** Options of one build: the library form of `tsbuild build`'s flags. */
export interface BuildOptions {
  /** State root (store, cache, tags). */
  root: string;
  /** Build context directory. */
  context: string;
  /** Dockerfile path, `-` for stdin (then `dockerfileText` or process.stdin), default CONTEXT/Dockerfile. */
  file?: string;
  /** Dockerfile contents given directly (takes precedence over `file`). */
  dockerfileText?: string;
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  platform?: string;
  noCache?: boolean;
  /** Always resolve base images in the registry (default: use a local copy when there is one). */
  pull?: boolean;
  noCacheFilter?: string[];
  /** `type=...,dest=...` strings as `--output` takes them. */
  outputs?: string[];
  push?: boolean;
  iidfile?: string;
  metadataFile?: string;
  network?: 'default' | 'none' | 'host';
  /** `id=x,src=path` or `id=x,env=VAR` strings as `--secret` takes them. */
  secrets?: string[];
  /** `default` or `id=path` strings as `--ssh` takes them. */
  ssh?: string[];
  maxParallelism?: number;
  progress?: ProgressSink;
  signal?: AbortSignal;
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
