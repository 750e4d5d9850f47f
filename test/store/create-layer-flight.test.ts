import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createLayer, openStore } from '../../src/store/index.js';
import { requireRoot } from '../helpers/require.js';
import { tempDir } from './helpers.js';

requireRoot();

describe('createLayer', () => {
  it('is single-flight in a process: a second caller waits for the same tar', async () => {
    const store = await openStore(tempDir());
    await store.snapshots.prepare('a-a');
    writeFileSync(join(store.snapshots.diffDir('a-a'), 'a.txt'), 'a');
    await store.snapshots.commit('a', 'a-a');
    const writer = vi.spyOn(store.content, 'writer');
    const [x, y] = await Promise.all([
      createLayer(store, 'a', { compression: 'gzip' }),
      createLayer(store, 'a', { compression: 'gzip', docker: true }),
    ]);
    expect(writer).toHaveBeenCalledTimes(1);
    expect(y.digest).toBe(x.digest);
    expect(x.mediaType).toMatch(/^application\/vnd\.oci\.image\.layer/);
    expect(y.mediaType).toMatch(/^application\/vnd\.docker\.image\.rootfs/);
    await store.close();
  });

  it('a walk stopped by its signal drops its ingest; a caller joined to it without one makes the layer itself', async () => {
    const store = await openStore(tempDir());
    await store.snapshots.prepare('b-b');
    writeFileSync(join(store.snapshots.diffDir('b-b'), 'big.bin'), randomBytes(8 << 20));
    await store.snapshots.commit('b', 'b-b');
    const stop = new AbortController();
    const first = createLayer(store, 'b', { compression: 'uncompressed', signal: stop.signal });
    const second = createLayer(store, 'b', { compression: 'uncompressed' });
    stop.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    const made = await second;
    expect(made.diffId).toBe(made.digest);
    expect(await store.content.has(made.digest)).toBe(true);
    expect(readdirSync(join(store.root, 'ingest')).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect((await store.fsck()).problems).toEqual([]);
    await store.close();
  });
});
