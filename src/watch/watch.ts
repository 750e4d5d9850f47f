import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BuildOptions, type BuildResult, type BuildSession, createBuildSession } from '../build.js';
import { TsbuildError } from '../errors.js';
import { DOCKERFILE_NAMES } from '../parser/dockerfile-names.js';
import type { ProgressEvent, ProgressSink } from '../progress/index.js';
import { namedContexts } from '../solver/build-graphs.js';
import { AppRunner } from './app-runner.js';
import { ContextWatcher } from './context-watcher.js';
import { runExecHook } from './exec-hook.js';
import { type BuildGate, RebuildLoop } from './rebuild-loop.js';
import type { BuildFn, WatchEvent, WatchOptions } from './types.js';
import { WatcherSet } from './watcher-set.js';

/** The Dockerfile a build reads (undefined when it is given as text): the one file always watched. */
export function dockerfilePath(b: Pick<BuildOptions, 'file' | 'dockerfileText'>, context: string) {
  if (b.dockerfileText !== undefined) return undefined;
  if (b.file === '-')
    throw new TsbuildError('WATCH_STDIN_DOCKERFILE', 'watch cannot re-read a Dockerfile from stdin', {
      hint: 'give the Dockerfile as a file with -f',
    });
  if (b.file) return resolve(b.file);
  // As the build picks it (build-inputs.ts).
  const found = DOCKERFILE_NAMES.map((n) => join(context, n)).find((p) => existsSync(p));
  return found ?? join(context, 'Dockerfile');
}

/** What a build writes on the host: a change there is the build's own doing, never a reason to rebuild. */
export function outputPaths(b: Omit<BuildOptions, 'signal' | 'progress'>): string[] {
  const out = [resolve(b.root)];
  for (const spec of b.outputs ?? []) {
    const fields = spec.split(',');
    const dest =
      fields.length === 1 && !spec.includes('=') ? spec : fields.find((f) => f.startsWith('dest='))?.slice(5);
    if (dest && dest !== '-') out.push(resolve(dest));
  }
  if (b.iidfile) out.push(resolve(b.iidfile));
  if (b.metadataFile) out.push(resolve(b.metadataFile));
  return out;
}

/** The env of `--exec`: the image by the first tag as given (else its digest), digest, image id. */
export function execEnv(tags: string[] | undefined, r: BuildResult): Record<string, string> {
  return {
    TSBUILD_IMAGE: tags?.[0] ?? r.digest,
    TSBUILD_DIGEST: r.digest,
    TSBUILD_IMAGE_ID: r.configDigest,
    TSBUILD_TAGS: r.tags.join(' '),
  };
}

/**
 * `tsbuild watch`: an initial build, then a rebuild after every change of the context (debounced;
 * a change during a build cancels it), then `--exec` and `--run` after each good build. Resolves once
 * `signal` aborts and the build in flight, the hook, the app container and the watcher are gone.
 */
/** Build number `n`: `--no-cache` only for the first (rebuilding everything on each save defeats watch). */
function buildHook(o: WatchOptions, buildFn: BuildFn, session?: BuildSession) {
  return async (n: number, _changed: string[], signal: AbortSignal, gate?: BuildGate) => {
    const progress = gatedProgress(o, n, gate);
    try {
      const { noCache, ...rest } = o.build;
      const opts = { ...rest, ...(noCache && n === 0 ? { noCache } : {}) };
      return await buildFn({
        ...opts,
        signal,
        ...(progress ? { progress: progress.sink } : {}),
        ...(gate && !gate.open ? { exportGate: gate.wait } : {}),
        keepUntagged: false,
        ...(session ? { session } : {}),
      });
    } finally {
      progress?.close();
    }
  };
}

/**
 * The progress of build `n`; a speculative build's events wait in memory until its gate opens (the
 * renderer is only made then), and are dropped if it is cancelled first: nobody saw it start.
 */
function gatedProgress(o: WatchOptions, n: number, gate?: BuildGate) {
  if (!o.progress) return undefined;
  const make = o.progress;
  let real: ProgressSink | undefined;
  let opened = false;
  const held: ProgressEvent[] = [];
  const open = () => {
    opened = true;
    real = make(n);
    for (const e of held.splice(0)) real?.emit(e);
  };
  if (!gate || gate.open) open();
  else void gate.wait.then(() => (opened ? undefined : open()));
  const sink: ProgressSink = { emit: (e) => (opened ? real?.emit(e) : held.push(e)) };
  return {
    sink,
    close: () => {
      opened = true;
      real?.close?.();
    },
  };
}

/** After a good build: `--exec` to its end, then the app restart. Failures are events, not fatal. */
function afterHook(o: WatchOptions, emit: (e: WatchEvent) => void, stop: AbortSignal, app?: AppRunner) {
  return async (result: BuildResult) => {
    if (o.exec) {
      try {
        const r = await runExecHook(o.exec, execEnv(o.build.tags, result), stop);
        emit({ type: 'exec-done', command: o.exec, ...r, at: Date.now() });
      } catch (error) {
        emit({ type: 'app-error', error, at: Date.now() });
      }
    }
    if (app && !stop.aborted)
      await app.replace(result).catch((error) => emit({ type: 'app-error', error, at: Date.now() }));
  };
}

export async function watch(o: WatchOptions): Promise<void> {
  const buildFn: BuildFn = o.buildFn ?? (await import('../build.js')).build;
  // Only the real build honours the export gate and the session; an injected one is called as is.
  const speculate = o.speculate ?? o.buildFn === undefined;
  const session = o.buildFn === undefined ? createBuildSession() : undefined;
  const emit = (e: WatchEvent) => o.onEvent?.(e);
  const context = resolve(o.build.context);
  const dockerfile = dockerfilePath(o.build, context);
  const debounceMs = o.debounceMs ?? 100;
  const stop = o.signal ?? new AbortController().signal;
  if (!existsSync(context)) throw new TsbuildError('CONTEXT_NOT_FOUND', `build context ${context} not found`);
  const app = o.run ? new AppRunner({ root: o.build.root, run: o.run, onEvent: emit }) : undefined;
  let watcher: WatcherSet | undefined;
  const loop = new RebuildLoop({
    debounceMs,
    maxWaitMs: Math.max(2000, 10 * debounceMs),
    settle: (paths) => watcher?.settle(paths) ?? paths,
    forget: (paths) => watcher?.forget(paths),
    onEvent: emit,
    speculate,
    build: buildHook(o, buildFn, session),
    after: afterHook(o, emit, stop, app),
  });
  const onError = (error: unknown) => emit({ type: 'watcher-error', error, at: Date.now() });
  const outputs = outputPaths(o.build);
  watcher = new WatcherSet();
  watcher.add(
    '',
    new ContextWatcher({
      context,
      ...(dockerfile ? { dockerfile } : {}),
      outputs,
      onChange: (paths) => loop.notify(paths),
      onError,
    }),
  );
  // Named local contexts are read by the build too: their changes rebuild, shown as NAME:path.
  for (const [name, c] of Object.entries(namedContexts(o.build.buildContexts ?? {}))) {
    if (!('dir' in c)) continue;
    const onChange = (paths: string[]) => loop.notify(paths.map((p) => `${name}:${p}`));
    watcher.add(`${name}:`, new ContextWatcher({ context: c.dir, outputs, onChange, onError }));
  }
  try {
    // The watch first (one inotify watch per directory: milliseconds), so no edit made while the
    // initial build runs is missed, and the first summary means "watching".
    const paths = await watcher.start();
    emit({ type: 'ready', context, paths, at: Date.now() });
    loop.start();
    if (!stop.aborted) await new Promise((r) => stop.addEventListener('abort', r, { once: true }));
  } finally {
    await loop.close();
    await watcher.close();
    await app?.close();
    await session?.close();
  }
}
