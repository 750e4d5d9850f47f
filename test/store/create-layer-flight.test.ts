import { writeFileSync } from 'node:fs';
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
});
