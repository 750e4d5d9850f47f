import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { createLayer, locksDir, openStore, type Store } from '../../src/store/index.js';
import { formatBytes, parseDuration, parseSize } from '../../src/store/units.js';
import { requireRoot } from '../helpers/require.js';
import { tempDir } from './helpers.js';

requireRoot();

async function committed(store: Store, name: string, parent?: string, bytes = 1000): Promise<string> {
  await store.snapshots.prepare(`${name}-a`, parent);
  writeFileSync(join(store.snapshots.diffDir(`${name}-a`), `${name}.bin`), Buffer.alloc(bytes, 7));
  await store.snapshots.commit(name, `${name}-a`);
  return name;
}

async function image(store: Store): Promise<{ manifest: Digest; config: Digest; layer: Digest }> {
  const layer = (await store.content.ingest('layer bytes')).digest;
  const config = (await store.content.ingest('{"rootfs":{"type":"layers","diff_ids":[]}}')).digest;
  const manifest = (
    await store.content.ingest(
      JSON.stringify({
        schemaVersion: 2,
        config: { digest: config, size: 1 },
        layers: [{ digest: layer, size: 11 }],
      }),
    )
  ).digest;
  await store.meta.tags.put('app:latest', {
    name: 'app:latest',
    target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest, size: 1 },
    createdAt: 1,
    updatedAt: 1,
  });
  return { manifest, config, layer };
}

const names = async (store: Store) => {
  const out: string[] = [];
  await store.snapshots.walk((i) => void out.push(i.name));
  return out.sort();
};

describe('gc', () => {
  it('marks from tags (following manifests), cache records, leases and live active snapshots; sweeps the rest', async () => {
    const store = await openStore(tempDir());
    const img = await image(store);
    const orphan = (await store.content.ingest('nobody wants me')).digest;
    await committed(store, 'A');
    await committed(store, 'B', 'A');
    await committed(store, 'C');
    await store.snapshots.prepare('mine'); // this process is alive: kept
    await store.meta.cache.put('k1', { key: 'k1', snapshot: 'A', createdAt: 1, lastUsed: Date.now() });
    await store.meta.cache.put('k2', {
      key: 'k2',
      snapshot: 'B',
      createdAt: 1,
      lastUsed: Date.now() - 3 * 86_400_000,
    });
    const lA = await createLayer(store, 'A', { compression: 'gzip' });
    const lC = await createLayer(store, 'C', { compression: 'gzip' });
    await new Promise((r) => setTimeout(r, 100));
    const lease = await store.meta.createLease();
    const leased = (await store.content.ingest('leased')).digest;
    await lease.addBlob(leased);
    // Written after the lease began and not (yet) recorded anywhere: a build in flight may own it.
    const inFlight = (await store.content.ingest('in flight')).digest;

    const r1 = await store.gc();
    expect(await names(store)).toEqual(['A', 'B', 'mine']);
    for (const d of [img.manifest, img.config, img.layer, lA.digest, leased, inFlight])
      expect(await store.content.has(d)).toBe(true);
    expect(await store.content.has(orphan)).toBe(false);
    expect(await store.content.has(lC.digest)).toBe(false);
    expect(r1.snapshotsRemoved).toBe(1);

    await store.gc({ olderThanMs: parseDuration('24h') });
    expect(await names(store)).toEqual(['A', 'mine']);
    expect((await store.meta.cache.keys()).sort()).toEqual(['k1']);

    await lease.release();
    await store.snapshots.remove('mine');
    const r3 = await store.gc({ all: true });
    expect(await names(store)).toEqual([]);
    expect(r3.cacheRecordsRemoved).toBe(1);
    expect(await store.content.has(lA.digest)).toBe(false);
    expect(await store.content.has(leased)).toBe(false);
    expect(await store.content.has(img.manifest)).toBe(true); // tags are not build cache
    expect((await store.fsck()).ok).toBe(true);
  });

  it("a layer record is its snapshot's own: a snapshot made again under the same name gets a new layer; gc and fsck drop stale records", async () => {
    const store = await openStore(tempDir());
    await committed(store, 'k-x', undefined, 100);
    const first = await createLayer(store, 'k-x', { compression: 'uncompressed' });
    // A prune removed the snapshot (the layer blob stays: a tagged image has it); the step ran
    // again and made other bytes under the same name.
    await store.snapshots.remove('k-x');
    await committed(store, 'k-x', undefined, 2000);
    const again = await createLayer(store, 'k-x', { compression: 'uncompressed' });
    expect(again.diffId).not.toBe(first.diffId);
    expect(again.uncompressedSize).toBeGreaterThan(first.uncompressedSize);

    // Records of a snapshot that is gone: fsck reports them as garbage, gc removes them.
    await committed(store, 'k-y', undefined, 10);
    await createLayer(store, 'k-y', { compression: 'gzip' });
    await store.snapshots.remove('k-y');
    expect((await store.fsck()).problems).toEqual([
      expect.objectContaining({ kind: 'meta', id: 'layers k-y', garbage: true }),
    ]);
    await store.meta.cache.put('x', { key: 'x', snapshot: 'k-x', createdAt: 1, lastUsed: Date.now() });
    await store.gc();
    expect((await store.meta.layers.list()).map((e) => e.snapshot)).toEqual(['k-x']);
    expect((await store.fsck()).problems).toEqual([]);
  });

  it('--keep-storage drops least recently used cache first', async () => {
    const store = await openStore(tempDir());
    for (const [i, n] of ['old', 'mid', 'new'].entries()) {
      await committed(store, n, undefined, 200_000);
      await store.meta.cache.put(n, { key: n, snapshot: n, createdAt: 1, lastUsed: 1000 + i });
    }
    const r = await store.gc({ keepBytes: 450_000 });
    expect(r.cacheRecordsRemoved).toBe(1);
    expect(await names(store)).toEqual(['mid', 'new']);
    const dry = await store.gc({ keepBytes: 0, dryRun: true });
    expect(dry.snapshotsRemoved).toBe(2);
    expect(await names(store)).toEqual(['mid', 'new']);
  });

  it('cache mounts: counted by du, kept by a plain prune, dropped by --all only while no build runs', async () => {
    const store = await openStore(tempDir());
    const dir = join(store.root, 'cache-mounts', 'a'.repeat(64));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'pkg.tgz'), Buffer.alloc(50_000, 1));
    writeFileSync(join(store.root, 'cache-mounts', `${'a'.repeat(64)}.lock`), '1');
    const usage = (await store.du()).find((e) => e.kind === 'cache-mounts');
    expect(usage).toMatchObject({ count: 1, reclaimable: usage?.size });
    expect(usage?.size).toBeGreaterThanOrEqual(50_000);
    expect((await store.gc()).cacheMountsRemoved).toBe(0);
    // A build in flight (its lease) may be using a shared cache: nothing tells which.
    const lease = await store.meta.createLease();
    expect((await store.gc({ all: true })).cacheMountsRemoved).toBe(0);
    expect(readdirSync(join(store.root, 'cache-mounts'))).toHaveLength(2);
    await lease.release();
    expect((await store.gc({ all: true, dryRun: true })).cacheMountsRemoved).toBe(1);
    const r = await store.gc({ all: true });
    expect(r.cacheMountsRemoved).toBe(1);
    expect(r.bytesFreed).toBeGreaterThanOrEqual(50_000);
    expect(readdirSync(join(store.root, 'cache-mounts'))).toEqual([]);
  });

  it('keeps a snapshot dir whose records a listing missed mid-commit (a RUN longer than the grace)', async () => {
    const store = await openStore(tempDir());
    await committed(store, 'X');
    const dir = join(store.snapshots.dataDir, (await store.snapshots.stat('X')).id);
    const old = new Date(Date.now() - 120_000);
    utimesSync(dir, old, old);
    const lease = await store.meta.createLease();
    // The graph, the kept-ids and the sweep's first listing all straddle the commit: X is missed.
    const real = store.snapshots.records.list.bind(store.snapshots.records);
    let calls = 0;
    store.snapshots.records.list = async () => {
      const all = await real();
      return ++calls <= 3 ? all.filter((r) => r.name !== 'X') : all;
    };
    await store.gc();
    store.snapshots.records.list = real;
    expect(readdirSync(store.snapshots.dataDir)).toContain((await store.snapshots.stat('X')).id);
    expect(readdirSync(join(dir, 'fs'))).toEqual(['X.bin']);
    expect(calls).toBe(4);
    await lease.release();
  });

  it('never deletes a lease a build created while the sweep was looking at the leases', async () => {
    const store = await openStore(tempDir());
    const real = store.meta.leases.list.bind(store.meta.leases);
    let calls = 0;
    let created: Awaited<ReturnType<typeof store.meta.createLease>> | undefined;
    // The first listing is the graph's; the lease is created right after the sweep's first look.
    store.meta.leases.list = async () => {
      const r = await real();
      if (calls++ === 1) created = await store.meta.createLease();
      return r;
    };
    await store.gc({ all: true });
    store.meta.leases.list = real;
    expect(created).toBeDefined();
    expect(await store.meta.leases.get(created!.id)).toBeDefined();
    await created!.release();
  });
});

describe('gc and temp dirs', () => {
  it('removes temp dirs of dead processes, never one with a mount inside, never one without a pid', async () => {
    const store = await openStore(tempDir());
    const tmp = join(store.root, 'tmp');
    const dead = 2 ** 22 + 12345; // above pid_max: never alive
    for (const d of [`${dead}-x`, `m-${dead}-mounted/inner`, 'bind-abcdef', `${process.pid}-mine`]) {
      mkdirSync(join(tmp, d), { recursive: true });
    }
    const victim = join(tmp, `m-${dead}-mounted`, 'inner');
    const src = join(store.root, 'tmp', `${process.pid}-mine`);
    writeFileSync(join(src, 'precious'), 'keep');
    execFileSync('mount', ['--bind', src, victim]);
    try {
      await store.gc();
      expect(readdirSync(tmp).sort()).toEqual(
        ['bind-abcdef', `m-${dead}-mounted`, `${process.pid}-mine`].sort(),
      );
      expect(readFileSync(join(victim, 'precious'), 'utf8')).toBe('keep');
    } finally {
      execFileSync('umount', [victim]);
    }
    await store.gc();
    expect(readdirSync(tmp).sort()).toEqual(['bind-abcdef', `${process.pid}-mine`].sort());
  });

  it('removes the pull locks of killed builds, never a live one, however old', async () => {
    const store = await openStore(tempDir());
    const locks = locksDir(store.root);
    mkdirSync(locks, { recursive: true });
    const dead = 2 ** 22 + 12345; // above pid_max: never alive
    writeFileSync(join(locks, 'pull-dead'), String(dead));
    writeFileSync(join(locks, 'pull-live'), String(process.pid));
    utimesSync(join(locks, 'pull-live'), new Date(0), new Date(0));
    writeFileSync(join(locks, 'pull-unwritten'), '');
    await store.gc();
    expect(readdirSync(locks).sort()).toEqual(['pull-live', 'pull-unwritten']);
  });
});

describe('fsck', () => {
  it('finds and repairs corrupt blobs, broken snapshot chains and dangling records', async () => {
    const store = await openStore(tempDir());
    const img = await image(store);
    await committed(store, 'P');
    await committed(store, 'Q', 'P');
    await store.meta.cache.put('kq', { key: 'kq', snapshot: 'Q', createdAt: 1, lastUsed: 1 });
    expect((await store.fsck()).ok).toBe(true);
    writeFileSync(store.content.blobPath(img.layer), 'tampered');
    rmSync(join(store.root, 'snapshots', (await store.snapshots.stat('P')).id), { recursive: true });
    const r = await store.fsck();
    expect(r.ok).toBe(false);
    const ids = r.problems.filter((p) => !p.garbage).map((p) => `${p.kind}:${p.id}`);
    expect(ids).toEqual(
      expect.arrayContaining([`blob:${img.layer}`, 'snapshot:P', 'snapshot:Q', 'meta:cache kq']),
    );
    const fixed = await store.fsck({ repair: true });
    expect(fixed.ok).toBe(true);
    expect(await store.content.has(img.layer)).toBe(false);
    expect(await names(store)).toEqual([]);
    expect((await store.fsck()).problems).toEqual([]);
  });
});

describe('units', () => {
  it('parses sizes and durations like docker', () => {
    expect(parseSize('10GB')).toBe(10e9);
    expect(parseSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseSize('1.5g')).toBe(1.5 * 2 ** 30);
    expect(parseSize('123')).toBe(123);
    expect(() => parseSize('ten')).toThrow(/invalid size/);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(() => parseDuration('soon')).toThrow(/invalid duration/);
    expect(() => parseDuration('24')).toThrow(/invalid duration/);
    expect(formatBytes(1536)).toBe('1.54kB');
  });
});

describe('CLI: prune, du, fsck', () => {
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
  const run = (args: string[], root: string) =>
    spawnSync(process.execPath, [bin, ...args, '--root', root], { encoding: 'utf8' });

  it('du reports by kind, prune frees, fsck exits 1 on a broken store', async () => {
    // The CLI runs from dist/: `npm test` compiles first (alone: `npx tsc -p tsconfig.build.json` before).
    const root = tempDir();
    const store = await openStore(root);
    await committed(store, 'S', undefined, 300_000);
    await store.meta.cache.put('k', { key: 'k', snapshot: 'S', createdAt: 1, lastUsed: 1 });
    const du = run(['du', '--json'], root);
    expect(du.status, du.stderr).toBe(0);
    const usage = JSON.parse(du.stdout) as { usage: { kind: string; size: number; count: number }[] };
    expect(usage.usage.find((u) => u.kind === 'snapshots')).toMatchObject({ count: 1 });
    expect(usage.usage.find((u) => u.kind === 'snapshots')!.size).toBeGreaterThanOrEqual(300_000);
    expect(run(['du'], root).stdout).toMatch(/KIND\s+COUNT\s+SIZE\s+RECLAIMABLE/);
    const p = run(['prune', '--all'], root);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/Total reclaimed space: 3\d\d\.\dkB/);
    expect(await names(store)).toEqual([]);
    expect(run(['prune', '--keep-storage', 'lots'], root)).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/invalid size/),
    });
    expect(run(['prune', '--filter', 'until=whenever'], root)).toMatchObject({ status: 1 });
    expect(run(['fsck'], root)).toMatchObject({ status: 0, stdout: expect.stringMatching(/ok/) });
    const b = await store.content.ingest('will rot');
    writeFileSync(store.content.blobPath(b.digest), 'rotten');
    expect(run(['fsck'], root)).toMatchObject({ status: 1, stdout: expect.stringMatching(/BROKEN: blob/) });
    expect(run(['fsck', '--repair'], root)).toMatchObject({ status: 0 });
  });
});
