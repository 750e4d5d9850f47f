/**
 * Progress events: what the solver and exporter report while a build runs. Renderers (tty, plain,
 * json, quiet) consume them; nothing else depends on their shape. Times are ms since the epoch.
 */
export type ProgressEvent =
  | {
      type: 'vertex';
      id: string;
      name: string;
      stage?: string;
      line?: number;
      status: VertexStatus;
      /** With `error`: the first line of what went wrong (BuildKit's `#N ERROR: …`). */
      error?: string;
      at: number;
    }
  | { type: 'log'; id: string; stream: 'stdout' | 'stderr'; data: string; at: number }
  | {
      type: 'bytes';
      id: string;
      label: string;
      current: number;
      total?: number;
      /** The step the transfer is for (a pull's `load metadata`), when there is one. */
      vertex?: string;
      at: number;
    }
  | { type: 'warning'; message: string; line?: number; at: number }
  | {
      type: 'summary';
      /** The manifest's digest (an index's, for several platforms). */
      digest: string;
      /** docker's image ID: the config's digest (`-q`, `--iidfile`); an index's own digest. */
      imageId: string;
      /** Every output a directory or tar of files (`-o type=local|tar`): no image is written. */
      toClient?: true;
      tags: string[];
      size: number;
      duration: number;
      at: number;
    };

export type VertexStatus = 'started' | 'cached' | 'done' | 'error' | 'canceled';

/** Anything that accepts events; renderers implement it, and so does a collecting array for tests. */
export interface ProgressSink {
  emit(event: ProgressEvent): void;
  /** Flushes and stops live rendering; called once when the build is over. */
  close?(): void;
}

export const nullSink: ProgressSink = { emit() {} };
