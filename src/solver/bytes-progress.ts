import type { ProgressSink } from '../progress/events.js';
import type { TransferProgress } from '../registry/index.js';

/** A registry or exporter transfer as `bytes` progress events (`downloading 3f2a…` with its counts). */
export function bytesProgress(progress: ProgressSink, vertex?: string): TransferProgress {
  return (e) =>
    progress.emit({
      type: 'bytes',
      id: e.id,
      label: `${e.status} ${e.id}`,
      current: e.current,
      total: e.total,
      ...(vertex ? { vertex } : {}),
      at: Date.now(),
    });
}
