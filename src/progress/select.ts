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
  const write = (s: string) => {
    stream.write(s);
  };
  const m = mode === 'auto' ? (stream.isTTY ? 'tty' : 'plain') : mode;
  if (m === 'tty') return new TtyRenderer(write, () => stream.columns || 100);
  if (m === 'json') return new JsonRenderer(write);
  if (m === 'quiet') return new QuietRenderer();
  return new PlainRenderer(write);
}
