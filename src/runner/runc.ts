import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { OciRuntime } from './runtime.js';
import { spawnPiped } from './spawn-piped.js';

const exec = promisify(execFile);

export interface RuncRunOptions {
  runtime: OciRuntime;
  bundle: string;
  id: string;
  /** `runc --root`; default the runtime's own (/run/runc for runc as root) */
  runtimeRoot?: string;
  signal?: AbortSignal;
  killGraceMs: number;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface RuncRunResult {
  exitCode: number;
  aborted: boolean;
  /** The process never started (runc exited 1; `exitCode` is then the shell's 127 or 126). */
  startFailed?: boolean;
}

const globalArgs = (o: { runtimeRoot?: string }): string[] =>
  o.runtimeRoot ? ['--root', o.runtimeRoot] : [];

/** Runs `runtime [--root R] <args>`; resolves true on success, false on failure (never throws). */
export async function runtimeCommand(o: RuncRunOptions, args: string[]): Promise<boolean> {
  try {
    await exec(o.runtime.path, [...globalArgs(o), ...args], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

export function stateExists(o: { runtime: OciRuntime; runtimeRoot?: string; id: string }): boolean {
  const root = o.runtimeRoot ?? (o.runtime.name === 'crun' ? '/run/crun' : '/run/runc');
  return existsSync(join(root, o.id));
}

/**
 * Cancellation: SIGTERM to the container, retried until the runtime knows the container (an abort can
 * come before `runc run` has created it); after the grace period SIGKILL to every process in it; as a
 * last resort SIGKILL to runc itself. `runc delete -f` afterwards clears whatever state remains.
 */
function startKiller(o: RuncRunOptions, killRunc: () => void): () => void {
  const started = Date.now();
  let stopped = false;
  let termSent = false;
  let busy = false;
  const tick = async () => {
    if (stopped || busy) return;
    busy = true;
    const elapsed = Date.now() - started;
    if (elapsed >= o.killGraceMs + 5000) killRunc();
    else if (elapsed >= o.killGraceMs) await runtimeCommand(o, ['kill', '--all', o.id, 'KILL']);
    else if (!termSent) termSent = await runtimeCommand(o, ['kill', o.id, 'TERM']);
    busy = false;
  };
  void tick();
  const timer = setInterval(() => void tick(), 100);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Containers whose runc is running now, and who wants to hear of the next one. */
let running = 0;
const listeners = new Set<() => void>();

/**
 * How many containers run now, and `listener` called when the next one starts (the result stops
 * that). While runc starts a container and its process runs, this process's main thread is idle:
 * work that can wait (solver/early-layers.ts) waits for that, so it does not delay the steps on
 * the build's critical path.
 */
export function containerStarts(listener: () => void): { running: number; stop: () => void } {
  listeners.add(listener);
  return { running, stop: () => listeners.delete(listener) };
}

function containerStarted(): () => void {
  running++;
  for (const l of [...listeners]) l();
  let ended = false;
  return () => {
    if (!ended) running--;
    ended = true;
  };
}

/** `runc run --bundle B ID` with stdio pipes (no terminal); resolves when runc exits. */
export function runcRun(o: RuncRunOptions): Promise<RuncRunResult> {
  return new Promise((resolve, reject) => {
    // Same process group: a terminal Ctrl-C also reaches runc, which forwards it to the container
    // (a PID 1 without a handler ignores it); tsbuild's abort then stops it through runc kill.
    // (`detached: true` would shield runc, but costs 10-20 ms per step in runc's start-up here.)
    const child = spawnPiped(o.runtime.path, [...globalArgs(o), 'run', '--bundle', o.bundle, o.id]);
    const ended = containerStarted();
    let aborted = false;
    let stopKiller: (() => void) | undefined;
    const onAbort = () => {
      aborted = true;
      stopKiller ??= startKiller(o, () => child.kill('SIGKILL'));
    };
    child.stdout.on('data', (c: Buffer) => o.onStdout?.(c));
    let startFailure: StartFailure | undefined;
    child.stderr.on('data', (c: Buffer) => {
      const f = parseStartFailure(c);
      if (f) startFailure = f;
      o.onStderr?.(f ? Buffer.from(`${f.message}\n`) : c);
    });
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      ended();
      o.signal?.removeEventListener('abort', onAbort);
      stopKiller?.();
      reject(e);
    });
    child.on('close', (code, sig) => {
      ended();
      o.signal?.removeEventListener('abort', onAbort);
      stopKiller?.();
      const exitCode = code ?? 128 + (sig ? signalNumber(sig) : 0);
      // runc exits 1 when the process could not even start; a shell says 127/126 for that.
      if (startFailure && exitCode === 1)
        resolve({ exitCode: startFailure.exitCode, aborted, startFailed: true });
      else resolve({ exitCode, aborted });
    });
  });
}

interface StartFailure {
  message: string;
  exitCode: number;
}

const RUNC_ERROR = /^time="[^"]*" level=error msg="((?:[^"\\]|\\.)*)"\s*$/;

/**
 * runc's own error when the process cannot start (logrus format), made readable:
 * `exec: "x": executable file not found in $PATH` → exit 127, permission denied → 126 (as a shell).
 */
export function parseStartFailure(chunk: Buffer): StartFailure | undefined {
  const m = RUNC_ERROR.exec(chunk.toString('utf8'));
  if (!m || !m[1]!.includes('unable to start container process')) return undefined;
  const message = m[1]!.replace(/\\(.)/g, '$1');
  const exitCode = /permission denied/.test(message) ? 126 : /not found|no such file/.test(message) ? 127 : 1;
  return { message, exitCode };
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

function signalNumber(sig: string): number {
  return SIGNALS[sig] ?? 0;
}

const NAMES: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
};

/** runc exits 128+n when the container's process died of signal n. */
export function signalFromExitCode(code: number): string | undefined {
  return code > 128 && code < 160 ? (NAMES[code - 128] ?? `signal ${code - 128}`) : undefined;
}
