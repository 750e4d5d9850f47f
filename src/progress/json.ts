import type { ProgressEvent, ProgressSink } from './events.js';

/** One JSON object per line (for tools): the events exactly as emitted. */
export class JsonRenderer implements ProgressSink {
  constructor(private readonly write: (s: string) => void) {}
  emit(e: ProgressEvent): void {
    this.write(`${JSON.stringify(e)}\n`);
  }
}

/** `--progress quiet`: nothing while building; the caller prints the image digest at the end. */
export class QuietRenderer implements ProgressSink {
  emit(): void {}
}
