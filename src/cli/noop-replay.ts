import {
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildInputs } from '../build.js';
import type { ObservedStat } from '../context/index.js';
import { DOCKERFILE_NAMES } from '../parser/dockerfile-names.js';
import { defaultRoot } from '../paths.js';
import type { ProgressEvent, ProgressSink } from '../progress/events.js';
import { createRenderer, type ProgressMode } from '../progress/select.js';
import { isRemoteContext } from '../solver/frontend/git-ref.js';
import type { FastParse } from './fast-build.js';

/**
 * The no-op fast path. A build that finds every step cached still loads the whole builder (~0.5 MB
 * of JavaScript), opens the store, scans the context and checks every cache key: about half of a
 * no-op rebuild's time. After each successful build the CLI records what the build read (the stats
 * of the Dockerfile and `.dockerignore` candidates, taken before the build; the stats of every
 * context path the scan looked at) and the state of the store's tag, cache, snapshot and blob
 * directories after it, under everything that can change the result (the parsed flags, the context
 * and working dirs, the environment the flags read, the installed tsbuild). The next `build` with
 * the same request (bin/run.js, before loading the builder) re-stats those inputs; if nothing
 * changed, the build would find every step cached and end with the same image under the same tags,
 * so that result is reported, through the same progress display (tty, plain, json or quiet) as a
 * fully cached build reports it, without running it.
 *
 * Sound because every check errs towards "changed": a file's content cannot change without its ctime
 * changing, names in a dir not without its mtime, and any tag, cache record, snapshot or blob
 * written or removed by anyone renames or unlinks in those flat dirs; stats of inputs are taken
 * before they are read, so a change racing the build leaves a stat that no longer matches. Only
 * plainly local builds take it: not with --no-cache/--pull/--no-cache-filter, outputs, --push,
 * id/metadata files, secrets, ssh, caches to import or export, named contexts, a Dockerfile on
 * stdin, a URL source (read anew by every build), or --debug. TSBUILD_NO_FAST_NOOP=1 turns it off;
 * TSBUILD_DEBUG_NOOP=1 says on stderr why a build did or did not take it.
 */

const VERSION = 2;
/** Written or unlinked by every change of tags, cache records, snapshots and blobs (all flat dirs). */
const STORE_DIRS = ['meta/tags', 'meta/cache', 'meta/snapshots', 'snapshots', 'blobs/sha256'];

interface RecordedStep {
  id: string;
  name: string;
  stage?: string;
  line?: number;
}

type Stamp = [ino: number, size: number, mtimeMs: number, ctimeMs: number] | null;

interface NoopRecord {
  v: number;
  /** Everything the result depends on besides files (compared whole: the file name is a short hash). */
  request: string;
  /** The Dockerfile and `.dockerignore` candidates, as they were before the build. */
  files: [path: string, stamp: Stamp][];
  context: { dir: string; observed: ObservedStat[] } | null;
  store: [dir: string, stamp: Stamp][];
  result: { digest: string; configDigest: string; tags: string[]; size: number };
  /** The steps, in the order they were first reported; `[internal] load` ones are DONE, the rest CACHED. */
  steps: RecordedStep[];
  warnings: { message: string; line?: number }[];
}

const stamp = (st: Stats | undefined): Stamp => (st ? [st.ino, st.size, st.mtimeMs, st.ctimeMs] : null);

/**
 * Node's own: undefined when the path is not there. A context name that is not UTF-8 (an escaped
 * string, fs-names.ts) is never found here, this process having decoded none: such a context
 * always takes the full build, which is right, only slower.
 */
const lstatOrUndefined = (p: string) => {
  try {
    return lstatSync(p, { throwIfNoEntry: false });
  } catch {
    // ENOTDIR (a context that is a file) and the like: absent; the build itself says what is wrong.
    return undefined;
  }
};

/** `<root>/meta/noop/<key>.json` → `<root>`. */
const rootOf = (recordPath: string) => dirname(dirname(dirname(recordPath)));

/**
 * Two 32-bit FNV-1a hashes: a file name for the request, which the record holds in full and compares,
 * so a collision only costs a full build. (node:crypto alone would add ~8 ms of module loading.)
 */
function shortHash(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** dist/ of this install: this module is dist/cli/noop-replay.js, or bundled into dist/*.cjs. */
function distDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return basename(here) === 'cli' ? dirname(here) : here;
}

/** Where a command line's record lives and what it must match, or undefined: no fast path. */
export interface NoopRequest {
  path: string;
  request: string;
  /** The files whose stats are part of the inputs: Dockerfile and `.dockerignore` candidates. */
  files: string[];
}

export function noopRequest(
  parsed: FastParse,
  env: NodeJS.ProcessEnv = process.env,
): NoopRequest | undefined {
  const f = parsed.flags;
  if (env.TSBUILD_NO_FAST_NOOP === '1') return undefined;
  if (f['no-cache'] || f.pull || f['no-cache-filter'] || f.output || f.push || f.debug) return undefined;
  if (f.iidfile || f['metadata-file'] || f.secret || f.ssh || f.file === '-' || parsed.context === '-')
    return undefined;
  // a cache to import or export, or contexts the record does not stat
  if (f['cache-from'] || f['cache-to'] || f['build-context']) return undefined;
  // a git or URL context is fetched anew: no local stat vouches for it
  if (isRemoteContext(parsed.context)) return undefined;
  const { progress: _p, quiet: _q, ...rest } = f;
  // `--build-arg NAME` takes its value from the environment; TSBUILD_* configure the builder.
  const envNames = (f['build-arg'] ?? []).filter((a) => !a.includes('='));
  const envUsed = Object.keys(env)
    .filter((k) => k.startsWith('TSBUILD_') || k === 'SOURCE_DATE_EPOCH' || envNames.includes(k))
    .filter((k) => k !== 'TSBUILD_DEBUG_NOOP')
    .sort()
    .map((k) => [k, env[k]]);
  const dist = distDir();
  const installed = ['fast-build.bundle.cjs', 'cli/fast-build.js'].map((p) =>
    stamp(lstatOrUndefined(join(dist, p))),
  );
  const root = resolve(f.root ?? defaultRoot(env));
  const context = resolve(parsed.context);
  const request = JSON.stringify([VERSION, installed, process.cwd(), context, root, rest, envUsed]);
  // What run-build reads: the Dockerfile (or Containerfile) and the .dockerignore that applies.
  const dockerfiles = f.file ? [resolve(f.file)] : DOCKERFILE_NAMES.map((n) => join(context, n));
  const files = [
    ...dockerfiles,
    ...dockerfiles.map((d) => join(dirname(d), `${basename(d)}.dockerignore`)),
    join(context, '.dockerignore'),
  ];
  return { path: join(root, 'meta', 'noop', `${shortHash(request)}.json`), request, files };
}

/** The stats of the request's files, taken before the build reads them, and when. */
export function stampFiles(req: NoopRequest): { at: number; files: NoopRecord['files'] } {
  const at = Date.now();
  return { at, files: req.files.map((p) => [p, stamp(lstatOrUndefined(p))]) };
}

/**
 * Git's "racily clean" rule: the kernel stamps file times from a coarse clock (a few ms), some
 * filesystems in whole seconds, so a change in the same tick as a stat leaves the stat equal. A ctime
 * this close to the moment it was read cannot vouch for the content: such a build is not recorded
 * (the next one is). A time on an exact second is taken for a whole-second filesystem.
 */
export function isRacy(ctimeMs: number, readAt: number): boolean {
  return ctimeMs >= readAt - (ctimeMs % 1000 === 0 ? 2000 : 50);
}

/** A progress sink that keeps what a no-op replay prints: the steps, in order, and the warnings. */
export function stepRecorder(inner: ProgressSink): ProgressSink & Pick<NoopRecord, 'steps' | 'warnings'> {
  const seen = new Set<string>();
  const steps: NoopRecord['steps'] = [];
  const warnings: NoopRecord['warnings'] = [];
  return {
    steps,
    warnings,
    emit(e: ProgressEvent) {
      if (e.type === 'vertex' && !seen.has(e.id)) {
        seen.add(e.id);
        steps.push({
          id: e.id,
          name: e.name,
          ...(e.stage ? { stage: e.stage } : {}),
          ...(e.line ? { line: e.line } : {}),
        });
      } else if (e.type === 'warning')
        warnings.push({ message: e.message, ...(e.line ? { line: e.line } : {}) });
      inner.emit(e);
    },
    close: () => inner.close?.(),
  };
}

/**
 * Records a finished build for the next one's fast path. Called once the store is closed, so the
 * store dirs are stamped as the build left them. Best effort: a record not written costs nothing.
 */
export function recordNoop(
  req: NoopRequest,
  stamped: ReturnType<typeof stampFiles>,
  inputs: BuildInputs,
  result: NoopRecord['result'],
  steps: NoopRecord['steps'],
  warnings: NoopRecord['warnings'],
): void {
  if (inputs.remote) return;
  if (stamped.files.some(([, s]) => s !== null && isRacy(s[3], stamped.at))) return;
  const ctx = inputs.context;
  if (ctx?.observed.some((o) => isRacy(o[4], ctx.since))) return;
  const root = rootOf(req.path);
  const rec: NoopRecord = {
    v: VERSION,
    request: req.request,
    files: stamped.files,
    context: ctx ? { dir: ctx.dir, observed: hotFirst(ctx.observed) } : null,
    store: STORE_DIRS.map((d) => [d, stamp(lstatOrUndefined(join(root, d)))]),
    result,
    steps,
    warnings,
  };
  // The store's temp name form (`.name.tmp-<pid>-…`, atomic.ts): a dead writer's is recognizable.
  const tmp = join(dirname(req.path), `.${basename(req.path)}.tmp-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(dirname(req.path), { recursive: true });
    writeFileSync(tmp, JSON.stringify(rec));
    renameSync(tmp, req.path);
  } catch {
    rmSync(tmp, { force: true });
  }
}

const sameStamp = (a: Stamp, b: Stamp) =>
  a === null || b === null ? a === b : a.every((x, i) => x === b[i]);

/**
 * The `n` entries changed last (by ctime) first, the rest in scan order. An edit-and-rebuild loop
 * edits the same few files, and the check stops at the first change: on `bigctx` (20,000 files) the
 * edited file came after ~4,600 others (~50 ms of stats, then the build stats them all again).
 */
export function hotFirst(observed: ObservedStat[], n = 16): ObservedStat[] {
  if (observed.length <= n) return observed;
  const top: number[] = []; // indexes, newest ctime first
  for (let i = 0; i < observed.length; i++) {
    const c = observed[i]![4];
    if (top.length === n && c <= observed[top[n - 1]!]![4]) continue;
    let j = Math.min(top.length, n - 1);
    while (j > 0 && observed[top[j - 1]!]![4] < c) j--;
    top.splice(j, 0, i);
    if (top.length > n) top.pop();
  }
  const first = new Set(top);
  return [...top.map((i) => observed[i]!), ...observed.filter((_, i) => !first.has(i))];
}

/** What changed since the recorded build (undefined: nothing). Any doubt (an error) is a change. */
function changed(rec: NoopRecord, req: NoopRequest): string | undefined {
  if (rec.v !== VERSION || rec.request !== req.request) return 'another request';
  const root = rootOf(req.path);
  for (const [p, s] of rec.files) if (!sameStamp(stamp(lstatOrUndefined(p)), s)) return p;
  for (const [d, s] of rec.store) {
    if (!sameStamp(stamp(lstatOrUndefined(join(root, d))), s)) return `the store (${d})`;
  }
  if (!rec.context) return undefined;
  const { dir, observed } = rec.context;
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  for (const o of observed) {
    // Plain concatenation: the recorded paths are clean and relative (path.join costs 2x here).
    const p = o[0] === '' ? dir : prefix + o[0];
    const st = lstatOrUndefined(p);
    if (!st || st.ino !== o[1] || st.size !== o[2] || st.mtimeMs !== o[3] || st.ctimeMs !== o[4]) return p;
    if (st.mode !== o[5]) return p;
  }
  return undefined;
}

/**
 * `build`'s fast path: true when the recorded result was printed (the build is a no-op), false
 * when the full build must run.
 */
export function replayNoop(parsed: FastParse, env: NodeJS.ProcessEnv = process.env): boolean {
  const req = noopRequest(parsed, env);
  if (!req) return false;
  const debug = (m: string) =>
    env.TSBUILD_DEBUG_NOOP === '1' && writeSync(2, `tsbuild: no-op fast path: ${m}\n`);
  let rec: NoopRecord;
  let why: string | undefined;
  try {
    rec = JSON.parse(readFileSync(req.path, 'utf8')) as NoopRecord;
    why = changed(rec, req);
  } catch {
    debug('no record of this build');
    return false;
  }
  if (why !== undefined) {
    debug(`changed: ${why}`);
    return false;
  }
  debug('nothing changed since the last build');
  const r = rec.result;
  if (parsed.flags.quiet || parsed.flags.progress === 'quiet') {
    // writeSync: creating process.stdout/stderr streams costs milliseconds here.
    writeSync(1, `${r.configDigest}\n`);
    return true;
  }
  // The events a fully cached build reports, through the same renderer (tty, plain or json).
  const sink = createRenderer(parsed.flags.progress as ProgressMode);
  const at = Date.now();
  for (const w of rec.warnings) sink.emit({ type: 'warning', ...w, at });
  for (const { name, ...st } of rec.steps) {
    const v = { type: 'vertex', name, ...st, at } as const;
    // The sources a build always reads (base image metadata, the context) report DONE; every
    // other step, a COPY --link's internal merge included, is a cache hit.
    if (name.startsWith('[internal] load ')) {
      sink.emit({ ...v, status: 'started' });
      sink.emit({ ...v, status: 'done' });
    } else sink.emit({ ...v, status: 'cached' });
  }
  // Since the process started, as performance.now() says, without loading perf_hooks for it.
  const duration = Math.round(process.uptime() * 1000);
  const { digest, configDigest: imageId, tags, size } = r;
  sink.emit({ type: 'summary', digest, imageId, tags, size, duration, at: Date.now() });
  sink.close?.();
  return true;
}
