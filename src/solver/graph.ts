import { createHash } from 'node:crypto';
import type { Rlimit } from '../runner/index.js';

/**
 * The op graph: what the frontend produces and the scheduler solves. A vertex's `digest` is the
 * digest of its op's canonical JSON plus its inputs' digests: two equal steps are one vertex, and
 * the same digest is never solved twice in one build. Names, lines and stages are for progress only
 * and never hashed.
 */
export interface Vertex {
  digest: string;
  op: Op;
  inputs: Vertex[];
  /** Progress label, e.g. `[build 2/5] RUN make`. */
  name: string;
  stage?: string;
  line?: number;
  /** `--no-cache` / `--no-cache-filter`: never reuse a cache record for this vertex. */
  ignoreCache?: boolean;
}

/** A base image, resolved to a manifest digest by the frontend's resolver. */
export interface ImageOp {
  kind: 'image';
  /** Canonical reference with digest, e.g. `docker.io/library/busybox:latest@sha256:…`. */
  ref: string;
  platform: string;
}

/** The local build context (one per build). */
export interface ContextOp {
  kind: 'context';
  name: 'context';
}

/** A remote file for `ADD <url>`. */
export interface HttpOp {
  kind: 'http';
  url: string;
  checksum?: string;
  filename: string;
}

/** ADD <git url>: the tree of one commit (BuildKit's git source). */
export interface GitOp {
  kind: 'git';
  /** The repository URL without its `#ref:subdir` fragment. */
  remote: string;
  /** Branch, tag or commit (default: the remote's HEAD). */
  ref?: string;
  subdir?: string;
  keepGitDir: boolean;
  /** `--checksum` (or the URL's `?checksum=`): the commit the ref must resolve to (a prefix of it). */
  checksum?: string;
  /** The URL's `?submodules=false`: the checkout without its submodules (absent: with them). */
  submodules?: false;
}

/** A named local context (`--build-context name=DIR`): the directory's tree, as the build context's. */
export interface LocalContextOp {
  kind: 'localctx';
  name: string;
  dir: string;
}

export interface ExecMountSpec {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  target: string;
  /** bind: index into the vertex's inputs (absent = the build context); cache: none. */
  input?: number;
  source?: string;
  readonly?: boolean;
  id?: string;
  sharing?: 'shared' | 'private' | 'locked';
  uid?: number;
  gid?: number;
  mode?: number;
  size?: number;
  required?: boolean;
  env?: string;
}

/** RUN: inputs[0] is the rootfs (absent = scratch when `scratchRoot`). */
export interface ExecOp {
  kind: 'exec';
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  network: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
  mounts: ExecMountSpec[];
  /** `--add-host` lines (`name:ip`), `--ulimit`s and `--shm-size`: in the op, so in its cache key, as
   * in BuildKit's ExecOp meta (only the host names: see `keyedOp`). Absent when not given, so keys
   * made without them stay the same. */
  extraHosts?: string[];
  /** HTTP_PROXY & co. from `--build-arg` (both spellings): in the step's environment, never in its
   * cache key (`keyedOp`). */
  proxyEnv?: string[];
  ulimits?: Rlimit[];
  shmSize?: number;
  /** BUILDKIT_SANDBOX_HOSTNAME (a build arg): the RUN's hostname, in its key as in ExecOp meta. */
  hostname?: string;
  /** Files made visible read-only (a RUN heredoc with a shebang): path → content, mode. */
  inlineFiles?: { path: string; data: string; mode: number }[];
  scratchRoot?: boolean;
}

export type FileAction =
  | {
      type: 'copy';
      /** Input index of the source (its rootfs or the context). */
      input: number;
      /** Sources: absolute paths inside the input; may hold wildcards. */
      sources: string[];
      /** Absolute destination; a trailing `/` means "a directory". */
      dest: string;
      chown?: string;
      chmod?: string;
      excludes: string[];
      /** ADD of a local tar archive: extract it. */
      unpack: boolean;
      parents: boolean;
      /** The source is the build context (content checksums key it). */
      fromContext: boolean;
    }
  | {
      /** A heredoc source of COPY/ADD: a file named `name` with `data`, copied to `dest` like a file. */
      type: 'inline';
      name: string;
      data: string;
      dest: string;
      chown?: string;
      chmod?: string;
    }
  | { type: 'mkdir'; path: string; mode: number; user?: string };

/** COPY/ADD/WORKDIR: the base is inputs[0] unless `scratchBase`. */
export interface FileOp {
  kind: 'file';
  actions: FileAction[];
  scratchBase: boolean;
}

/** COPY --link: stacks the layer(s) of inputs[1..] on inputs[0]. */
export interface MergeOp {
  kind: 'merge';
}

export type Op = ImageOp | ContextOp | LocalContextOp | HttpOp | GitOp | ExecOp | FileOp | MergeOp;

/**
 * The op as its cache key sees it. BuildKit's execOp.CacheMap clears `Meta.ProxyEnv` and the IP of
 * every extra host before hashing, so a new proxy or a host's new address reuses the step (moby's
 * users set them per machine); the host names stay in the key.
 */
export function keyedOp(op: Op): Op {
  if (op.kind !== 'exec' || (!op.proxyEnv && !op.extraHosts)) return op;
  const { proxyEnv: _, extraHosts, ...rest } = op;
  return extraHosts ? { ...rest, extraHosts: extraHosts.map((h) => `${h.slice(0, h.indexOf(':'))}:`) } : rest;
}

/** sha256 of canonical JSON (keys sorted) of any plain data. */
export function digestOf(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export function makeVertex(op: Op, inputs: Vertex[], meta: Omit<Vertex, 'digest' | 'op' | 'inputs'>): Vertex {
  const digest = digestOf({ op, inputs: inputs.map((i) => i.digest) });
  return { digest, op, inputs, ...meta };
}
