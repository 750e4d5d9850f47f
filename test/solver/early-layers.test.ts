import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../../src/build.js';
import type { ProgressEvent } from '../../src/progress/events.js';
import { quietTime } from '../../src/solver/early-layers.js';
import { openStore } from '../../src/store/index.js';
import { makeContext, useBusyboxRegistry } from '../e2e/helpers.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

requireRoot();
requireBinary('runc');

/** Blobs of at least `min` bytes in the store (the busybox base layer is under 2 MB). */
function bigBlobs(root: string, min: number): string[] {
  const dir = join(root, 'blobs', 'sha256');
  return readdirSync(dir).filter((f) => statSync(join(dir, f)).size >= min);
}

describe('early layers (solver/early-layers.ts)', () => {
  const base = useBusyboxRegistry();

  it("a target step's layer blob is in the store while a later step still runs, and the export uses it", async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-early-'));
    const ctx = makeContext({});
    writeFileSync(join(ctx, 'big.bin'), randomBytes(3 << 20)); // incompressible: its blob is > 3 MB
    let seenWhileRunning: string[] = [];
    let polling: ReturnType<typeof setInterval> | undefined;
    const emit = (e: ProgressEvent) => {
      if (e.type !== 'vertex' || !e.name.includes('RUN sleep')) return;
      if (e.status === 'started')
        polling = setInterval(() => {
          if (seenWhileRunning.length === 0) seenWhileRunning = bigBlobs(root, 3 << 20);
        }, 50);
      if (e.status === 'done') clearInterval(polling);
    };
    const r = await build({
      root,
      context: ctx,
      dockerfileText: `FROM ${base()}\nCOPY big.bin /big.bin\nRUN sleep 2 && echo done > /d\n`,
      progress: { emit },
      outputs: ['type=image,name=early:1'],
    });
    clearInterval(polling);
    expect(seenWhileRunning).toHaveLength(1);
    const layers = (r.manifest as { layers: { digest: string }[] }).layers.map((l) => l.digest);
    expect(layers).toContain(`sha256:${seenWhileRunning[0]}`);
    const store = await openStore(root);
    expect(readdirSync(join(root, 'ingest')).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect((await store.fsck()).problems).toEqual([]);
  });

  it('a build that fails after a big step stops or ends its early layer before it returns: nothing left writing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-early-'));
    const ctx = makeContext({});
    writeFileSync(join(ctx, 'big.bin'), randomBytes(3 << 20));
    await expect(
      build({
        root,
        context: ctx,
        dockerfileText: `FROM ${base()}\nCOPY big.bin /big.bin\nRUN exit 3\n`,
        outputs: ['type=image,name=early:2'],
      }),
    ).rejects.toMatchObject({ code: 'RUN_FAILED' });
    // The COPY's layer was finished or stopped before build() returned: no ingest left behind (a
    // stopped one drops its own), a clean store, and nothing still writing after a moment.
    expect(readdirSync(join(root, 'ingest')).filter((f) => !f.startsWith('.'))).toEqual([]);
    const store = await openStore(root);
    expect((await store.fsck()).problems).toEqual([]);
    const blobs = bigBlobs(root, 3 << 20);
    expect(blobs.length).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(bigBlobs(root, 3 << 20)).toEqual(blobs);
    expect(readdirSync(join(root, 'ingest')).filter((f) => !f.startsWith('.'))).toEqual([]);
  });
});

describe('quietTime: when a layer made ahead may start', () => {
  it('waits for a container to start, and not past the longest wait', async () => {
    const { makeFixture, sh } = await import('../runner/fixture.js');
    const fx = makeFixture();
    try {
      const quiet = quietTime(60_000);
      let resolvedAt = 0;
      const waited = quiet.wait().then(() => {
        resolvedAt = Date.now();
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(resolvedAt).toBe(0);
      // The wait ends while the container runs (its process sleeps 1 s), long before runc returns.
      const ran = sh(fx, 'sleep 1');
      await waited;
      // Asked while one runs: at once.
      const t1 = Date.now();
      await quietTime(60_000).wait();
      expect(Date.now() - t1).toBeLessThan(300);
      const returnedAt = await ran.then(() => Date.now());
      expect(returnedAt - resolvedAt).toBeGreaterThan(500);
      // With no container, the longest wait ends it.
      const t0 = Date.now();
      await quietTime(150).wait();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    } finally {
      fx.cleanup();
    }
  });

  it('end() lets every waiting walk start at once, and later ones not wait', async () => {
    const quiet = quietTime(60_000);
    const t0 = Date.now();
    const waits = [quiet.wait(), quiet.wait()];
    quiet.end();
    await Promise.all([...waits, quiet.wait()]);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
