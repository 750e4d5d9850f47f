import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { extractStream } from './apply-layer.js';

// One layer per worker (see apply-layer.ts `extractInWorker`): extract, answer, exit.
const { path, dir, opts } = workerData as {
  path: string;
  dir: string;
  opts: Parameters<typeof extractStream>[2];
};
parentPort?.once('message', () =>
  extractStream(createReadStream(path), dir, opts).then(
    (ok) => parentPort?.postMessage({ ok }),
    (e: { code?: string; message?: string; hint?: string }) =>
      parentPort?.postMessage({
        error: {
          code: e.code ?? 'LAYER_INVALID',
          message: e.message ?? String(e),
          ...(e.hint ? { hint: e.hint } : {}),
        },
      }),
  ),
);
