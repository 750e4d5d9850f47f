import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mount, openStore, type Store, unmount, withMount } from '../../src/store/index.js';
import { kernelAtLeast, VOLATILE_OK } from '../../src/store/snapshot/snapshotter.js';
import { requireRoot } from '../helpers/require.js';
import { sh, tempDir } from './helpers.js';

requireRoot();

/** Writes into an active snapshot through its mounts, as a RUN step would. */
async function writeVia(store: Store, key: string, fn: (dir: string) => void): Promise<void> {
  const target = join(await store.tempDir('mnt'), 'm');
  mkdirSync(target);
  await withMount(await store.snapshots.mounts(key), target, async (d) => fn(d));
}

function snapshotterSuite(kind: 'overlay' | 'copy'): void {
  describe(`Snapshotter: ${kind}`, () => {
    it('is the implementation asked for', async () => {
      const store = await openStore(tempDir(), { snapshotter: kind });
      expect(store.snapshots.kind).toBe(kind);
    });

    it('prepare → write → commit → child sees parent; diff dir holds only the change', async () => {
      const store = await openStore(tempDir(), { snapshotter: kind });
      const s = store.snapshots;
      await s.prepare('a-active');
      await writeVia(store, 'a-active', (d) => {
        writeFileSync(join(d, 'base.txt'), 'base');
        mkdirSync(join(d, 'etc'));
        writeFileSync(join(d, 'etc', 'conf'), 'v1');
      });
      await s.commit('a', 'a-active');
      expect((await s.stat('a')).kind).toBe('committed');
      await expect(s.stat('a-active')).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
      await s.prepare('b-active', 'a');
      await writeVia(store, 'b-active', (d) => {
        expect(readFileSync(join(d, 'base.txt'), 'utf8')).toBe('base');
        writeFileSync(join(d, 'etc', 'conf'), 'v2');
        sh(`rm "${join(d, 'base.txt')}"`);
      });
      const b = await s.commit('b', 'b-active');
      expect(b.parent).toBe('a');
      const diff = s.diffDir('b');
      expect(readFileSync(join(diff, 'etc', 'conf'), 'utf8')).toBe('v2');
      expect(sh(`stat -c '%F %t:%T' "${join(diff, 'base.txt')}"`).trim()).toBe('character special file 0:0');
      expect(await s.lowerDirs('b')).toEqual([s.diffDir('a')]);
      // A read-only view of b shows the merged tree.
      const mounts = await s.view('b-view', 'b');
      const target = join(await store.tempDir('v'), 'm');
      mkdirSync(target);
      await mount(mounts, target);
      try {
        expect(existsSync(join(target, 'base.txt'))).toBe(false);
        expect(readFileSync(join(target, 'etc', 'conf'), 'utf8')).toBe('v2');
        expect(() => writeFileSync(join(target, 'x'), 'x')).toThrow(/EROFS|read-only/);
      } finally {
        await unmount(target);
      }
      await s.remove('b-view');
    });

    it('a diff keeps names that are not UTF-8: new, changed and removed ones', async () => {
      const store = await openStore(tempDir(), { snapshotter: kind });
      const s = store.snapshots;
      const at = (d: string, name: string) => Buffer.from(`${d}/${name}`, 'latin1');
      await s.prepare('a-active');
      await writeVia(store, 'a-active', (d) => {
        writeFileSync(at(d, 'keep\xff'), 'k');
        writeFileSync(at(d, 'gone\xfe'), 'g');
        writeFileSync(at(d, 'edit\xe9'), '1');
      });
      await s.commit('a', 'a-active');
      await s.prepare('b-active', 'a');
      await writeVia(store, 'b-active', (d) => {
        writeFileSync(at(d, 'edit\xe9'), '22');
        sh(`rm "${d}"/gone*`);
        mkdirSync(at(d, 'new\xfd'));
        writeFileSync(at(d, 'new\xfd/f'), 'n');
      });
      await s.commit('b', 'b-active');
      const diff = s.diffDir('b');
      const names = readdirSync(diff, { encoding: 'buffer' }).map((n) => n.toString('latin1'));
      expect(names.sort()).toEqual(['edit\xe9', 'gone\xfe', 'new\xfd']);
      expect(readFileSync(at(diff, 'edit\xe9'), 'utf8')).toBe('22');
      expect(readFileSync(at(diff, 'new\xfd/f'), 'utf8')).toBe('n');
      expect(statSync(at(diff, 'gone\xfe')).isCharacterDevice()).toBe(true);
    });

    it('names are unique; parents must be committed; parents with children cannot be removed', async () => {
      const store = await openStore(tempDir(), { snapshotter: kind });
      const s = store.snapshots;
      await s.prepare('x');
      await expect(s.prepare('x')).rejects.toMatchObject({ code: 'SNAPSHOT_EXISTS' });
      await expect(s.prepare('y', 'x')).rejects.toMatchObject({ code: 'SNAPSHOT_STATE' });
      await expect(s.prepare('y', 'nope')).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
      await s.commit('X', 'x');
      await s.prepare('y', 'X');
      await expect(s.remove('X')).rejects.toMatchObject({ code: 'SNAPSHOT_IN_USE' });
      await s.remove('y');
      await s.remove('X');
      const all: string[] = [];
      await s.walk((i) => void all.push(i.name));
      expect(all).toEqual([]);
    });

    it("active and view snapshots carry a live marker; opening the store drops a killed build's, by it", async () => {
      const root = tempDir();
      const store = await openStore(root, { snapshotter: kind });
      const s = store.snapshots;
      const live = () => readdirSync(join(root, 'meta', 'snapshots-live')).sort();
      await s.prepare('base-active');
      expect(live()).toEqual([basename(s.records.markerOf('base-active'))]);
      await s.commit('base', 'base-active');
      expect(live()).toEqual([]);
      await s.view('v', 'base');
      await s.prepare('mine', 'base');
      await s.prepare('killed', 'base');
      await s.remove('v');
      expect(live()).toEqual(
        [s.records.markerOf('mine'), s.records.markerOf('killed')].map((m) => basename(m)).sort(),
      );
      // A build killed with -9 left 'killed': its record names a pid that is gone.
      const rec = s.records.pathOf('killed');
      const dead = 2 ** 22 + 12345; // above pid_max: never alive
      writeFileSync(rec, JSON.stringify({ ...JSON.parse(readFileSync(rec, 'utf8')), pid: dead }));
      const killedDir = join(s.dataDir, (await s.stat('killed')).id);
      // A marker whose record is gone (a kill between the two) is dropped too; a live process's is
      // not (its record is being made or removed right now).
      writeFileSync(join(root, 'meta', 'snapshots-live', 'f'.repeat(40)), String(dead));
      writeFileSync(join(root, 'meta', 'snapshots-live', 'e'.repeat(40)), String(process.pid));
      const again = (await openStore(root, { snapshotter: kind })).snapshots;
      expect(await again.tryStat('killed')).toBeUndefined();
      expect(existsSync(killedDir)).toBe(false);
      expect((await again.stat('mine')).kind).toBe('active');
      expect((await again.stat('base')).kind).toBe('committed');
      expect(live()).toEqual([basename(s.records.markerOf('mine')), 'e'.repeat(40)].sort());
    });

    it('walk and stat report kind and parent; usage counts bytes', async () => {
      const store = await openStore(tempDir(), { snapshotter: kind });
      const s = store.snapshots;
      await s.prepare('p');
      writeFileSync(join(s.diffDir('p'), 'f'), Buffer.alloc(100_000, 1));
      await s.commit('P', 'p');
      await s.prepare('c', 'P', { labels: { purpose: 'test' } });
      const infos: Record<string, unknown> = {};
      await s.walk((i) => {
        infos[i.name] = { kind: i.kind, parent: i.parent, labels: i.labels };
      });
      expect(infos).toEqual({
        P: { kind: 'committed', parent: undefined, labels: undefined },
        c: { kind: 'active', parent: 'P', labels: { purpose: 'test' } },
      });
      expect((await s.usage('P')).size).toBeGreaterThanOrEqual(100_000);
    });

    it(
      kind === 'overlay'
        ? 'prepare from a diff dir moves it in as the upper'
        : 'refuses to prepare from a diff dir',
      async () => {
        const store = await openStore(tempDir(), { snapshotter: kind });
        const s = store.snapshots;
        await s.prepare('base-active');
        await writeVia(store, 'base-active', (d) => writeFileSync(join(d, 'base.txt'), 'base'));
        await s.commit('base', 'base-active');
        const diff = await store.tempDir('unpack'); // mode 0700, as mkdtemp makes it
        writeFileSync(join(diff, 'layer.txt'), 'layer');
        if (kind === 'copy') {
          await expect(s.prepare('k', 'base', { contents: diff })).rejects.toMatchObject({
            code: 'SNAPSHOT_INVALID',
          });
          expect(existsSync(join(diff, 'layer.txt'))).toBe(true);
          return;
        }
        await s.prepare('k', 'base', { contents: diff });
        expect(existsSync(diff)).toBe(false);
        expect(readFileSync(join(s.diffDir('k'), 'layer.txt'), 'utf8')).toBe('layer');
        expect(statSync(s.diffDir('k')).mode & 0o777).toBe(0o755);
        await writeVia(store, 'k', (d) => {
          expect(readFileSync(join(d, 'base.txt'), 'utf8')).toBe('base');
          expect(readFileSync(join(d, 'layer.txt'), 'utf8')).toBe('layer');
        });
        await s.commit('top', 'k');
        expect((await s.stat('top')).parent).toBe('base');
      },
    );
  });
}

snapshotterSuite('overlay');
snapshotterSuite('copy');

describe('overlay chain', () => {
  it('mounts a chain of 120 layers (short ids, relative lowerdirs under the page limit)', async () => {
    const store = await openStore(tempDir(), { snapshotter: 'overlay' });
    const s = store.snapshots;
    let parent: string | undefined;
    for (let i = 0; i < 120; i++) {
      const key = `layer-${i}-active`;
      await s.prepare(key, parent);
      writeFileSync(join(s.diffDir(key), `f${i}`), String(i));
      if (i > 0) writeFileSync(join(s.diffDir(key), 'last'), String(i));
      const name = `sha256:${String(i).padStart(64, '0')}`;
      await s.commit(name, key);
      parent = name;
    }
    const mounts = await s.prepare('top', parent);
    expect(mounts[0]!.options.join(',').length).toBeLessThan(4096);
    const target = join(await store.tempDir('m'), 'm');
    mkdirSync(target);
    await withMount(mounts, target, async (d) => {
      expect(readFileSync(join(d, 'f0'), 'utf8')).toBe('0');
      expect(readFileSync(join(d, 'f119'), 'utf8')).toBe('119');
      expect(readFileSync(join(d, 'last'), 'utf8')).toBe('119');
      writeFileSync(join(d, 'new'), 'n');
    });
    expect(readFileSync(join(s.diffDir('top'), 'new'), 'utf8')).toBe('n');
  });

  it('a parent another process removed and made again (another id) is read again, not remembered', async () => {
    const root = tempDir();
    const [mine, other] = [await openStore(root), await openStore(root)];
    const lower = (m: Awaited<ReturnType<Store['snapshots']['prepare']>>) =>
      m[0]!.options.find((o) => o.startsWith('lowerdir='));
    await mine.snapshots.prepare('k1');
    await mine.snapshots.commit('base', 'k1');
    await mine.snapshots.prepare('k2', 'base');
    await mine.snapshots.commit('mid', 'k2');
    const before = lower(await mine.snapshots.prepare('c1', 'mid'));
    await mine.snapshots.remove('c1');
    // A prune in the other process, then the same name applied anew: a new record and id (past
    // the other process's own snapshot, so the ids are not the ones freed).
    await other.snapshots.prepare('pad');
    await other.snapshots.remove('mid');
    await other.snapshots.remove('base');
    await other.snapshots.prepare('k3');
    await other.snapshots.commit('base', 'k3');
    await other.snapshots.prepare('k4', 'base');
    await other.snapshots.commit('mid', 'k4');
    const ids = [(await other.snapshots.stat('mid')).id, (await other.snapshots.stat('base')).id];
    const after = lower(await mine.snapshots.prepare('c2', 'mid'));
    expect(after).toBe(`lowerdir=${ids[0]}/fs:${ids[1]}/fs`);
    expect(after).not.toBe(before);
  });

  it('mounts an active snapshot volatile where the kernel can (no disk sync at unmount), a view not', async () => {
    expect(kernelAtLeast('5.10.0-21-amd64', 5, 10)).toBe(true);
    expect(kernelAtLeast('6.1.0', 5, 10)).toBe(true);
    expect(kernelAtLeast('5.4.0-150-generic', 5, 10)).toBe(false);
    expect(kernelAtLeast('weird', 5, 10)).toBe(false);
    const store = await openStore(tempDir(), { snapshotter: 'overlay' });
    const s = store.snapshots;
    await s.prepare('base-active');
    await s.commit('base', 'base-active');
    await s.prepare('mid-active', 'base');
    await s.commit('mid', 'mid-active');
    const active = await s.prepare('top', 'mid');
    expect(active[0]!.options.includes('volatile')).toBe(VOLATILE_OK);
    expect((await s.view('v', 'mid'))[0]!.options).not.toContain('volatile');
    const target = join(await store.tempDir('m'), 'm');
    mkdirSync(target);
    await withMount(active, target, async (d) => writeFileSync(join(d, 'x'), 'x'));
    // committed after a volatile mount: the marked work dir goes, the child mounts fine
    await s.commit('top-c', 'top');
    const child = await s.prepare('child', 'top-c');
    await withMount(child, target, async (d) => expect(readFileSync(join(d, 'x'), 'utf8')).toBe('x'));
  });

  it("a view of one layer hides that layer's whiteouts, as a view of several does", async () => {
    const store = await openStore(tempDir(), { snapshotter: 'overlay' });
    const s = store.snapshots;
    // An image's first layer may white out names below it that do not exist: still not content.
    await s.prepare('base-active');
    sh(
      `mknod ${join(s.diffDir('base-active'), 'gone')} c 0 0 && echo k > ${join(s.diffDir('base-active'), 'kept')}`,
    );
    await s.commit('base', 'base-active');
    const target = join(await store.tempDir('m'), 'm');
    mkdirSync(target);
    await withMount(await s.view('v', 'base'), target, async (d) => {
      expect(existsSync(join(d, 'kept'))).toBe(true);
      expect(sh('ls -A', d)).toBe('kept\n');
    });
  });

  it('auto-selects overlay here and says why when it cannot', async () => {
    const store = await openStore(tempDir());
    expect(store.snapshots.kind).toBe('overlay');
  });
});
