import { fstatSync, writeSync } from 'node:fs';
import type { ProgressSink } from './events.js';
import { JsonRenderer, QuietRenderer } from './json.js';
import { PlainRenderer } from './plain.js';
import { TtyRenderer } from './tty.js';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';

/** `auto` is the live view on a terminal, plain lines otherwise (as buildx decides). */
export function createRenderer(mode: ProgressMode, stream?: NodeJS.WriteStream): ProgressSink {
  // What one tick writes goes out as one write: events come in bursts (a cached rebuild reports
  // every step at once) and each write to a pipe or file is a syscall. `close()` flushes at once,
  // so nothing the caller prints after it can overtake the progress.
  let pending = '';
  const out = stream ? (text: string) => void stream.write(text) : writeStderr;
  const flush = () => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    out(text);
  };
  const write = (s: string) => {
    if (pending === '') queueMicrotask(flush);
    pending += s;
  };
  const sink = renderer(mode, stream, write);
  return {
    emit: (e) => sink.emit(e),
    close: () => {
      sink.close?.();
      flush();
    },
  };
}

function renderer(
  mode: ProgressMode,
  stream: NodeJS.WriteStream | undefined,
  write: (s: string) => void,
): ProgressSink {
  const m = mode === 'auto' ? ((stream ? stream.isTTY : stderrIsTerminal()) ? 'tty' : 'plain') : mode;
  if (m === 'tty') {
    const term = () => stream ?? process.stderr;
    return new TtyRenderer(
      write,
      () => term().columns || 100,
      () => term().rows || 0,
    );
  }
  if (m === 'json') return new JsonRenderer(write);
  if (m === 'quiet') return new QuietRenderer();
  return new PlainRenderer(write);
}

// Progress on stderr without process.stderr where no terminal needs it: making that stream loads
// Node's stream modules, ~4 ms of a no-op rebuild (which loads nothing else of them).

/**
 * Whether fd 2 is a terminal, as isatty(3) says for the terminals Linux has: a character device of
 * the tty (4), /dev/tty and console (5) or pseudo-terminal (136-143) majors. /dev/null, also a
 * character device, is not one.
 */
function stderrIsTerminal(): boolean {
  try {
    const st = fstatSync(2);
    if (!st.isCharacterDevice()) return false;
    const major = Math.floor(st.rdev / 256) & 0xfff;
    return major === 4 || major === 5 || (major >= 136 && major <= 143);
  } catch {
    return false;
  }
}

let viaStream = false;

/**
 * Sync: a file takes it at once, a blocking pipe makes the step wait for its reader. A pipe is
 * non-blocking once something made process.stderr on it (libuv does that); full, it hands over to
 * process.stderr, for good: what follows must not overtake what that has queued (bin/run.js waits
 * for it to drain before the exit).
 */
function writeStderr(text: string): void {
  if (viaStream) {
    process.stderr.write(text);
    return;
  }
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(2, buf));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        viaStream = true;
        process.stderr.write(buf);
      }
      // EPIPE, EBADF: nobody reads the progress any more; the build goes on.
      return;
    }
  }
}
