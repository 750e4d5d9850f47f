import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { requireRoot } from '../helpers/require.js';
import { tempDir } from './helpers.js';

requireRoot();

const RUNS = 50;
const writer = join(import.meta.dirname, 'crash-writer.ts');

/** Starts the writer, waits until it is writing, kills it with SIGKILL after `ms`. */
function runAndKill(root: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, root], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), ms));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited on its own (${code}): ${err}`));
    });
  });
}

describe('crash safety (kill -9 of a writer)', () => {
  it(`after ${RUNS} SIGKILLs at random points: fsck passes, no partial blob is visible, the store works`, async () => {
    const root = tempDir('tsb-crash-');
    await openStore(root);
    for (let i = 0; i < RUNS; i++) {
      await runAndKill(root, Math.floor(Math.random() * 150));
      const store = await openStore(root);
      const r = await store.fsck();
      const errors = r.problems.filter((p) => !p.garbage);
      expect(errors, JSON.stringify(errors)).toEqual([]);
      expect(r.ok).toBe(true);
    }
    // Every visible blob is whole: its bytes hash to its name.
    const blobs = join(root, 'blobs', 'sha256');
    const names = readdirSync(blobs);
    expect(names.length).toBeGreaterThan(RUNS / 2);
    for (const n of names) {
      expect(n).toMatch(/^[a-f0-9]{64}$/);
      expect(
        createHash('sha256')
          .update(readFileSync(join(blobs, n)))
          .digest('hex'),
      ).toBe(n);
    }
    // Repair clears the leftovers; then the store is clean and usable (the fixed ref's lock is taken over).
    const store = await openStore(root);
    await store.fsck({ repair: true });
    expect((await store.fsck()).problems).toEqual([]);
    const w = await store.content.writer({ ref: 'crash-fixed-ref' });
    w.end(Buffer.from('after the crashes'));
    const ref = await w.commit();
    expect(await store.content.has(ref.digest)).toBe(true);
    const gc = await store.gc();
    expect(gc.blobsRemoved).toBeGreaterThan(0);
    expect((await store.fsck()).ok).toBe(true);
  }, 240_000);
});
