import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { extractStream } from './apply-layer.js';

type Job = { path: string; dir: string; opts: Parameters<typeof extractStream>[2] };

// One layer per worker (see apply-layer.ts `extractInWorker`): wait for the job, extract, answer, exit.
parentPort?.once('message', ({ path, dir, opts }: Job) =>
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
