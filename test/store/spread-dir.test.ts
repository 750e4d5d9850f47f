import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { spreadDir } from '../../src/store/spread-dir.js';
import { requireRoot } from '../helpers/require.js';
import { tempDir } from './helpers.js';

requireRoot();

describe('spreadDir: snapshot trees where inodes allocate fast', () => {
  it('makes an empty dir under the prefix and leaves its probe entries nowhere', () => {
    const parent = tempDir();
    const dir = spreadDir(join(parent, 'x-snap-'));
    expect(dir.startsWith(join(parent, 'x-snap-'))).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(parent)).toHaveLength(1);
  });

  it('makes the dir again while allocating there is slow, and keeps the fastest', () => {
    const parent = tempDir();
    const costs = (ms: number[]) => {
      const seen: string[] = [];
      const dir = spreadDir(join(parent, 'p-'), (d) => {
        seen.push(d);
        return ms[seen.length - 1] as number;
      });
      return { seen, dir };
    };
    const fast = costs([3, 2, 0.1, 9]);
    expect(fast.seen).toHaveLength(3);
    expect(fast.dir).toBe(fast.seen[2]);
    expect(readdirSync(parent)).toEqual([fast.dir.slice(parent.length + 1)]);
    const slow = costs([5, 4, 6, 7]);
    expect(slow.seen).toHaveLength(4);
    expect(slow.dir).toBe(slow.seen[1]);
    expect(readdirSync(parent).sort()).toEqual(
      [fast.dir, slow.dir].map((d) => d.slice(parent.length + 1)).sort(),
    );
  });

  it("an overlay snapshot's upper and work are both such trees, moved into place", async () => {
    const store = await openStore(tempDir());
    if (store.snapshots.kind !== 'overlay') throw new Error('overlay snapshotter expected on this machine');
    await store.snapshots.prepare('a');
    const dir = join(store.snapshots.dataDir, (await store.snapshots.stat('a')).id);
    expect(readdirSync(dir).sort()).toEqual(['fs', 'work']);
    expect(statSync(join(dir, 'work')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'fs')).mode & 0o777).toBe(0o755);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
    await store.close();
  });
});
