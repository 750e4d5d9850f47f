import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

describe('concurrent writers in several processes', () => {
  it('four processes writing the same blob (same and private refs) all succeed; one blob, no ingest left', async () => {
    const root = tempDir('tsb-conc-');
    const file = join(tempDir('tsb-conc-src-'), 'blob');
    const data = randomBytes(6 * 1024 * 1024);
    writeFileSync(file, data);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const child = join(import.meta.dirname, 'concurrent-writer.ts');
    const outs = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<string>((resolve, reject) => {
            const p = spawn(process.execPath, ['--import', 'tsx', child, root, file, digest], {
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            let out = '';
            let err = '';
            p.stdout.on('data', (d) => {
              out += d;
            });
            p.stderr.on('data', (d) => {
              err += d;
            });
            p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
          }),
      ),
    );
    for (const o of outs) expect(o.trim()).toBe(`ok ${digest}`);
    expect(readdirSync(join(root, 'blobs', 'sha256'))).toEqual([digest.slice(7)]);
    expect(readdirSync(join(root, 'ingest'))).toEqual([]);
    expect((await (await openStore(root)).fsck()).problems).toEqual([]);
  }, 120_000);
});

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
    // Opening dropped the dead writers' active snapshots: only committed ones are left.
    const kinds = new Set<string>();
    await store.snapshots.walk((i) => void kinds.add(i.kind));
    expect([...kinds]).toEqual(['committed']);
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
