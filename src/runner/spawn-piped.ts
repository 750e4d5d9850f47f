import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { type NativeCalls, nativeCalls } from '../native.js';

/** What runc's runner uses of a child process: Node's ChildProcess is one. */
export interface PipedChild {
  readonly stdout: Readable;
  readonly stderr: Readable;
  kill(signal: NodeJS.Signals): void;
  on(event: 'error', listener: (e: Error) => void): this;
  on(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
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
