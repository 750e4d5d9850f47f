import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { type NativeCalls, nativeCalls } from '../native.js';
import { findInPath } from './runtime.js';

/** What runc's runner uses of a child process: Node's ChildProcess is one. */
export interface PipedChild {
  readonly stdout: Readable;
  readonly stderr: Readable;
  kill(signal: NodeJS.Signals): void;
  on(event: 'error', listener: (e: Error) => void): this;
  on(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

/**
 * A child that reads what this process writes to its stdin and outlives it (dead-man.ts). 'error':
 * it could not start; that it died shows as an error writing to its stdin.
 */
export interface WatcherChild {
  readonly stdin: Writable;
  on(event: 'error', listener: () => void): this;
}

/**
 * `file args…` with stdin from /dev/null and stdout/stderr piped to this process. Through the native
 * addon where it is built: Node's spawn forks this whole process and blocks its main thread until
 * the child has exec'd (runc: 10-22 ms a step here, on the step's critical path); the addon's
 * vfork-style clone shares this process's memory until the exec, 2-5 ms. Otherwise Node's spawn.
 */
export function spawnPiped(file: string, args: string[]): PipedChild {
  const native = nativeCalls();
  if (!native) return spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new NativeChild(native, file, args);
}

const SIGNAL_NAMES = new Map(
  Object.entries(constants.signals).map(([name, n]) => [n as number, name as NodeJS.Signals]),
);

/** ChildProcess's events for a child the addon started: 'close' once it is reaped and both pipes end. */
class NativeChild extends EventEmitter implements PipedChild {
  readonly stdout: Socket;
  readonly stderr: Socket;
  #pid = 0;
  #exited = false;

  constructor(native: NativeCalls, file: string, args: string[]) {
    super();
    let left = 3;
    let code: number | null = null;
    let signal: NodeJS.Signals | null = null;
    const oneDone = () => {
      if (--left === 0) this.emit('close', code, signal);
    };
    let fds: [number, number, number];
    try {
      fds = native.spawnPiped(file, [file, ...args], (c, s) => {
        this.#exited = true;
        code = s ? null : c;
        signal = s ? (SIGNAL_NAMES.get(s) ?? 'SIGKILL') : null;
        oneDone();
      });
    } catch (e) {
      // As Node's spawn reports a missing file: an 'error' event, never a throw.
      this.stdout = new Socket();
      this.stderr = new Socket();
      process.nextTick(() => this.emit('error', e));
      return;
    }
    this.#pid = fds[0];
    this.stdout = new Socket({ fd: fds[1], readable: true, writable: false });
    this.stderr = new Socket({ fd: fds[2], readable: true, writable: false });
    for (const s of [this.stdout, this.stderr]) s.on('close', oneDone);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#exited || this.#pid <= 0) return;
    try {
      process.kill(this.#pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * `file args…` ($PATH searched) in a session of its own, stdin a pipe from this process, stdout
 * and stderr /dev/null; neither the child nor its pipe keeps this process alive (Node's
 * `detached` + `unref()`; through the addon nothing waits for the child at all). Through the addon where it is built: Node's spawn of it was 25-30 ms of
 * main thread at the first RUN, which delayed a parallel stage's runc by as much.
 */
export function spawnWatcher(file: string, args: string[]): WatcherChild {
  const native = nativeCalls();
  const path = native && findInPath(file, process.env.PATH ?? '');
  if (!native || !path) {
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child as WatcherChild;
  }
  const w = new EventEmitter() as EventEmitter & { stdin: Writable };
  try {
    const [, fd] = native.spawnPiped(path, [file, ...args], () => {}, true);
    const stdin = new Socket({ fd, readable: false, writable: true });
    stdin.unref();
    w.stdin = stdin;
  } catch {
    w.stdin = new Socket();
    process.nextTick(() => w.emit('error'));
  }
  return w as WatcherChild;
}
