// Child process for crash.test.ts: writes blobs, metadata and snapshots in a loop until SIGKILLed.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openStore } from '../../src/store/index.js';

const root = process.argv[2]!;
const store = await openStore(root, { snapshotter: 'overlay' });
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const size = 1 + Math.floor(Math.random() * 1024 * 1024);
  const data = randomBytes(size);
  if (i % 3 === 0) {
    // A fixed ref: the next run must take over the dead writer's lock.
    const w = await store.content.writer({ ref: 'crash-fixed-ref' });
    for (let off = 0; off < size; off += 65536) {
      if (!w.write(data.subarray(off, off + 65536))) await new Promise((r) => w.once('drain', r));
    }
    await w.commit();
  } else {
    await store.content.ingest(Readable.from([data.subarray(0, size >> 1), data.subarray(size >> 1)]));
  }
  const blob = await store.content.ingest(`{"n":${i}}`);
  await store.meta.tags.put(`t${i % 5}`, {
    name: `t${i % 5}`,
    target: { mediaType: 'application/json', digest: blob.digest, size: blob.size },
    createdAt: Date.now(),
    updatedAt: Date.now(),
  });
  const key = `active-${process.pid}-${i}`;
  await store.snapshots.prepare(key);
  writeFileSync(join(store.snapshots.diffDir(key), 'f'), data.subarray(0, 1000));
  await store.snapshots.commit(`snap-${process.pid}-${i}`, key);
  await store.meta.cache.put(`k${i % 7}`, {
    key: `k${i % 7}`,
    snapshot: `snap-${process.pid}-${i}`,
    createdAt: 1,
    lastUsed: Date.now(),
  });
}
