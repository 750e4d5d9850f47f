import { firstLine } from '../../errors.js';
import type { ProgressSink } from '../../progress/events.js';

/**
 * Runs `work` as a step of its own in the progress (`importing cache manifest from …`, `exporting
 * cache to …`, as BuildKit shows them): started, then done, or its error's first line. A failure is
 * a warning (`warn` + the error) and undefined when `tolerate` says so, else it is thrown.
 */
export async function cacheStep<T>(
  progress: ProgressSink,
  step: { id: string; name: string; warn: string; tolerate: (e: unknown) => boolean },
  work: () => Promise<T>,
): Promise<T | undefined> {
  const { id, name } = step;
  progress.emit({ type: 'vertex', id, name, status: 'started', at: Date.now() });
  try {
    const out = await work();
    progress.emit({ type: 'vertex', id, name, status: 'done', at: Date.now() });
    return out;
  } catch (e) {
    progress.emit({ type: 'vertex', id, name, status: 'error', error: firstLine(e), at: Date.now() });
    if (!step.tolerate(e)) throw e;
    progress.emit({ type: 'warning', message: `${step.warn}: ${firstLine(e)}`, at: Date.now() });
    return undefined;
  }
}
