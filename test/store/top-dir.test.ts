import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { LocalSnapshotter } from '../../src/store/snapshot/snapshotter.js';
import { markTopDir } from '../../src/store/top-dir.js';
import { NATIVE_IMPLEMENTATIONS, useNativeSetting } from '../helpers/native-impls.js';
import { requireRoot } from '../helpers/require.js';
import { sh, tempDir } from './helpers.js';

requireRoot();

/** Whether this filesystem keeps the top-directory flag (ext2/3/4 do; tmpfs, for one, does not). */
function topDirFlagWorks(): boolean {
  const d = join(tempDir(), 'probe');
  mkdirSync(d);
  return spawnSync('chattr', ['+T', d]).status === 0 && /T/.test(sh(`lsattr -d "${d}"`).split(' ')[0] ?? '');
}

describe('store placement of new trees (ext4 recently-deleted inodes)', () => {
  it('a new store marks tmp/ as a top directory before the first snapshot tree is made there', async () => {
    const works = topDirFlagWorks();
    // The suite runs on ext4 here and in CI; a probe that fails there is a broken set-up.
    expect(works || sh(`stat -f -c %T "${tempDir()}"`).trim() !== 'ext2/ext3').toBe(true);
    const root = tempDir();
    const store = await openStore(root);
    // Marked by the time the first tree is made there (not necessarily when open returns).
    await store.snapshots.prepare('first');
    const flags = sh(`lsattr -d "${join(root, 'tmp')}"`).split(' ')[0] ?? '';
    expect(/T/.test(flags)).toBe(works);
  });

  it('a snapshot tree is moved out of tmp/ whole: nothing is left there, its mode is 0755', async () => {
    for (const kind of ['overlay', 'copy'] as const) {
      const root = tempDir();
      const store = await openStore(root, { snapshotter: kind });
      await store.snapshots.prepare('a-active');
      await store.snapshots.commit('a', 'a-active');
      await store.snapshots.prepare('b-active', 'a');
      expect(readdirSync(join(root, 'tmp'))).toEqual([]);
      const ids = readdirSync(join(root, 'snapshots'));
      expect(ids).toHaveLength(2);
      for (const id of ids) expect(statSync(join(root, 'snapshots', id, 'fs')).mode & 0o7777).toBe(0o755);
    }
  });

  it('a tree that cannot be moved into place is removed with the half-made snapshot', async () => {
    const root = tempDir();
    const store = await openStore(root);
    // A tree on another filesystem (tmpfs): the move into snapshots/ fails for real, with EXDEV.
    const elsewhere: string[] = [];
    const broken = new LocalSnapshotter(root, store.snapshots.kind, [], async () => {
      const d = mkdtempSync('/dev/shm/tsbuild-test-tree-');
      elsewhere.push(d);
      return d;
    });
    await expect(broken.prepare('moved')).rejects.toMatchObject({ code: 'EXDEV' });
    expect(elsewhere.length).toBeGreaterThan(0);
    for (const d of elsewhere) expect(existsSync(d)).toBe(false);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(readdirSync(join(root, 'snapshots'))).toEqual([]);
    expect(await store.snapshots.tryStat('moved')).toBeUndefined();
    await store.snapshots.prepare('moved');
    expect(readdirSync(join(root, 'snapshots'))).toHaveLength(1);
  });
});

for (const impl of NATIVE_IMPLEMENTATIONS) {
  describe(`markTopDir (${impl.name})`, () => {
    useNativeSetting(impl.off);

    it('sets the top-directory flag; a path it cannot mark is no error', async () => {
      if (!topDirFlagWorks()) throw new Error('the suite needs ext4 here (chattr +T)');
      const d = join(tempDir(), 'top');
      mkdirSync(d);
      await markTopDir(d);
      expect(sh(`lsattr -d "${d}"`).split(' ')[0]).toMatch(/T/);
      await markTopDir(d);
      expect(sh(`lsattr -d "${d}"`).split(' ')[0]).toMatch(/T/);
      await expect(markTopDir(join(tempDir(), 'missing'))).resolves.toBeUndefined();
      await expect(markTopDir('/dev/shm')).resolves.toBeUndefined();
    });
  });
}
