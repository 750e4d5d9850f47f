// Child process for crash.test.ts: ingests one file several times, racing other processes for the
// same blob (private refs) and for the same ref (the ingest lock: retried on INGEST_LOCKED).
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../../src/oci/digest.js';
import { openStore } from '../../src/store/index.js';

const [root, file, digest] = process.argv.slice(2) as [string, string, Digest];
const store = await openStore(root, { snapshotter: 'copy' });
for (let i = 0; i < 3; i++) {
  const r = await store.content.ingest(createReadStream(file), { digest });
  if (r.digest !== digest) throw new Error(`got ${r.digest}`);
  for (;;) {
    try {
      const w = await store.content.writer({ ref: `shared-${digest}`, expected: { digest } });
      await pipeline(createReadStream(file), w);
      await w.commit();
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== 'INGEST_LOCKED') throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
process.stdout.write(`ok ${digest}\n`);
