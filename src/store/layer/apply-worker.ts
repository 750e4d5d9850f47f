import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { extractStream } from './apply-layer.js';
import type { ExtractJob, FollowMessage } from './extract-worker.js';
import { followFile } from './follow-file.js';

// One layer per worker (see extract-worker.ts `extractInWorker`): wait for the job, extract, answer,
// exit. A followed file's progress comes as further messages; the listener goes once the answer is
// posted, so the worker's loop empties and it exits.
parentPort?.once('message', (job: ExtractJob) => {
  let input: ReturnType<typeof createReadStream> | ReturnType<typeof followFile>['stream'];
  let onProgress: ((m: FollowMessage) => void) | undefined;
  if ('fd' in job) {
    const f = followFile(job.fd, job.bytes);
    onProgress = (m) => ('end' in m ? f.ended(m.end) : f.grew(m.bytes));
    parentPort?.on('message', onProgress);
    input = f.stream;
  } else input = createReadStream(job.path);
  const answer = (m: unknown) => {
    if (onProgress) parentPort?.off('message', onProgress);
    parentPort?.postMessage(m);
  };
  extractStream(input, job.dir, job.opts).then(
    (ok) => answer({ ok }),
    (e: { code?: string; message?: string; hint?: string }) =>
      answer({
        error: {
          code: e.code ?? 'LAYER_INVALID',
          message: e.message ?? String(e),
          ...(e.hint ? { hint: e.hint } : {}),
        },
      }),
  );
});
