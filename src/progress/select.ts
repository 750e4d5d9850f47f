import type { ProgressSink } from './events.js';
import { JsonRenderer, QuietRenderer } from './json.js';
import { PlainRenderer } from './plain.js';
import { TtyRenderer } from './tty.js';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';

/** `auto` is the live view on a terminal, plain lines otherwise (as buildx decides). */
export function createRenderer(
  mode: ProgressMode,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressSink {
  // What one tick writes goes out as one write: events come in bursts (a cached rebuild reports
  // every step at once) and each write to a pipe or file is a syscall. `close()` flushes at once,
  // so nothing the caller prints after it can overtake the progress.
  let pending = '';
  const flush = () => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    stream.write(text);
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

function renderer(mode: ProgressMode, stream: NodeJS.WriteStream, write: (s: string) => void): ProgressSink {
  const m = mode === 'auto' ? (stream.isTTY ? 'tty' : 'plain') : mode;
  if (m === 'tty') return new TtyRenderer(write, () => stream.columns || 100);
  if (m === 'json') return new JsonRenderer(write);
  if (m === 'quiet') return new QuietRenderer();
  return new PlainRenderer(write);
}
