import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../../src/build.js';
import { openStore } from '../../src/store/index.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

requireRoot();
requireBinary('runc');

/** FROM scratch with busybox as /bin/sh, a RUN that writes /out. */
function context(marker: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-e2e-lease-ctx-'));
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM scratch\nCOPY busybox /bin/sh\nRUN echo ${marker} > /out\nRUN cat /out > /out2\n`,
  );
  return dir;
}

async function buildTo(root: string, ctx: string) {
  const dest = mkdtempSync(join(tmpdir(), 'tsb-e2e-lease-out-'));
  const r = await build({ root, context: ctx, outputs: [`type=local,dest=${dest}`] });
  return { ...r, out: readFileSync(join(dest, 'out2'), 'utf8') };
}

describe('leases: a build keeps what it reuses from the cache against a concurrent prune', () => {
  it('a lease taken while gc runs waits for it: the snapshot a build then sees stays', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-lease-root-'));
    const ctx = context('chain');
    await buildTo(root, ctx);
    const store = await openStore(root);
    const records = await store.snapshots.records.list();
    expect(records.length).toBe(3);
    const [first, ...rest] = records;
    // A build's cache hit lands after gc read the leases, before its sweep (forced at that point).
    const realDelete = store.snapshots.records.delete.bind(store.snapshots.records);
    let hit: Promise<unknown> | undefined;
    let gcDone = false;
    const seen: { gcDoneWhenLeased?: boolean; stat?: unknown } = {};
    store.snapshots.records.delete = async (name: string) => {
      hit ??= (async () => {
        const lease = await store.meta.createLease();
        await lease.addSnapshot(first!.name);
        seen.gcDoneWhenLeased = gcDone;
        seen.stat = await store.snapshots.tryStat(first!.name);
        await lease.release();
      })();
      return realDelete(name);
    };
    const r = await store.gc({ all: true });
    gcDone = true;
    await hit;
    expect(r.snapshotsRemoved).toBe(3);
    // The lease waited for the gc, and then the build saw the truth (gone: a cache miss).
    expect(seen.gcDoneWhenLeased).toBe(true);
    expect(seen.stat).toBeUndefined();
    // A gc starting after the lease keeps what it names, with the parent chain.
    store.snapshots.records.delete = realDelete;
    await buildTo(root, ctx);
    const again = await store.snapshots.records.list();
    const leaf = again.find((x) => !again.some((y) => y.parent === x.name))!;
    const lease = await store.meta.createLease();
    await lease.addSnapshot(leaf.name);
    const r2 = await store.gc({ all: true });
    expect(r2.snapshotsRemoved).toBe(0);
    for (const x of again) expect(await store.snapshots.tryStat(x.name)).toBeDefined();
    await lease.release();
    expect((await store.gc({ all: true })).snapshotsRemoved).toBe(again.length);
    expect(rest.length).toBe(2);
    await store.close();
  });

  it('builds racing prune --all all succeed with the right result', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-lease-race-'));
    const ctx = context('race');
    await buildTo(root, ctx);
    let stop = false;
    let prunes = 0;
    const pruner = (async () => {
      const store = await openStore(root);
      try {
        while (!stop) {
          await store.gc({ all: true });
          prunes++;
        }
      } finally {
        await store.close();
      }
    })();
    try {
      for (let i = 0; i < 12; i++) {
        const r = await buildTo(root, ctx);
        expect(r.out).toBe('race\n');
      }
    } finally {
      stop = true;
      await pruner;
    }
    expect(prunes).toBeGreaterThan(2);
  });
});
