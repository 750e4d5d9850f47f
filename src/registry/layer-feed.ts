/**
 * One layer blob as it downloads, for a consumer that reads it before it is complete (the unpacker,
 * see store/layer/apply-layer.ts): the file the store writes it to and how many bytes of it are on
 * disk. It is the store's IngestObserver for that blob. `file` resolves before the first byte is
 * written, or to undefined when nothing is downloaded (the blob was in the store, or the transfer
 * failed first). Whether the bytes are right is the pull's answer (`PullHandle.layers`), not this.
 */
export class LayerFeed {
  bytes = 0;
  readonly file: Promise<string | undefined>;
  #open!: (path: string | undefined) => void;
  readonly #listeners = new Set<(bytes: number) => void>();

  constructor() {
    this.file = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  started(path: string): void {
    this.#open(path);
  }

  written(bytes: number): void {
    this.bytes = bytes;
    for (const fn of this.#listeners) fn(bytes);
  }

  /** Calls `fn` with the byte count after each write; returns the unsubscribe. */
  onBytes(fn: (bytes: number) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** No (further) download: `file` resolves to undefined if it has not resolved yet. */
  settle(): void {
    this.#open(undefined);
  }
}
