import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { isTempName, pidAlive } from './atomic.js';
import { dropCacheMounts } from './cache-mounts.js';
import { locksDir, sweepDeadLocks } from './file-lock.js';
import { markGcRunning } from './gc-marker.js';
import { childDigests, type GcPlan, planGc, removalOrder, type StoreGraph } from './gc-plan.js';
import { isLiveLease } from './meta.js';
import { dirUsage } from './snapshot/snapshotter.js';
import type { LocalStore } from './store.js';
import { type GcOptions, type GcResult, layerCacheKey } from './types.js';

const JSON_LIMIT = 4 << 20;
const ORPHAN_GRACE_MS = 60_000;

/**
 * Mark and sweep. Roots: tags, cache records the policy keeps, live leases (builds in flight), active
 * snapshots of live processes, and anything created since the oldest live lease began (a build may
 * have written it and not yet recorded it). Safe while another build runs as long as builds lease.
 */
export async function gc(store: LocalStore, opts: GcOptions = {}): Promise<GcResult & { plan: GcPlan }> {
  // Before the leases are read: a build leasing something after that point waits for this gc.
  const done = opts.dryRun ? async () => {} : await markGcRunning(store.meta.root);
  try {
    return await collect(store, opts);
  } finally {
    await done();
  }
}

async function collect(store: LocalStore, opts: GcOptions): Promise<GcResult & { plan: GcPlan }> {
  const g = await loadGraph(store);
  const plan = planGc(g, opts);
  const result: GcResult & { plan: GcPlan } = {
    blobsRemoved: plan.dropBlobs.length,
    snapshotsRemoved: plan.dropSnapshots.length,
    cacheRecordsRemoved: plan.dropCache.length,
    ingestsRemoved: 0,
    cacheMountsRemoved: 0,
    bytesFreed: plan.bytes,
    plan,
  };
  // Build cache too (`--all`), but only with no build in flight: every build holds a lease.
  if (opts.all && g.protectAfter === undefined) {
    const mounts = await dropCacheMounts(store.root, !!opts.dryRun);
    result.cacheMountsRemoved = mounts.count;
    result.bytesFreed += mounts.bytes;
  }
  if (opts.dryRun) return result;
  for (const c of plan.dropCache) await store.meta.cache.delete(c.key);
  const snaps = store.snapshots;
  const dropping = new Set(plan.dropSnapshots);
  // A kept record on the same dir as a dropped one (a commit cut short by kill -9) keeps the data.
  const keptIds = new Set((await snaps.records.list()).filter((r) => !dropping.has(r.name)).map((r) => r.id));
  for (const name of removalOrder(plan.dropSnapshots, (n) => g.snapshots.get(n)?.parent)) {
    const info = await snaps.records.get(name);
    if (!info) continue;
    await snaps.records.delete(name);
    if (keptIds.has(info.id)) continue;
    // A dead build may have left it mounted (EBUSY on overlay work dirs): the next gc retries.
    await fsp.rm(join(snaps.dataDir, info.id), { recursive: true, force: true }).catch(() => {});
  }
  for (const d of plan.dropBlobs) await store.content.delete(d as `sha256:${string}`);
  // The exporter's per-blob memos (layer sizes, recompressed blobs) of the blobs just dropped:
  // never read again (a blob's digest is its content), so only their space is reclaimed.
  if (plan.dropBlobs.length > 0)
    await dropBlobMemos(store.root, new Set(plan.dropBlobs.map((d) => d.slice(7))));
  // The CLI's no-op records (cli/noop-replay.ts) are only an accelerator: a gc drops them all.
  await fsp.rm(join(store.meta.root, 'noop'), { recursive: true, force: true });
  result.ingestsRemoved = await store.content.cleanIngests();
  // Pull locks (solver/pull-lock.ts) of builds killed while pulling: one small file per reference.
  sweepDeadLocks(locksDir(store.root));
  await sweepLeftovers(store, g.protectAfter === undefined);
  return result;
}

export async function loadGraph(store: LocalStore): Promise<StoreGraph> {
  const now = Date.now();
  const blobs: StoreGraph['blobs'] = new Map();
  await store.content.walk(async (b) => {
    let children: string[] = [];
    if (b.size > 1 && b.size <= JSON_LIMIT) {
      const head = await store.content.readAt(b.digest, 0, 1);
      if (head[0] === 0x7b) {
        try {
          const buf = await fsp.readFile(store.content.blobPath(b.digest));
          children = childDigests(JSON.parse(buf.toString('utf8'))).filter((d) => d !== b.digest);
        } catch {
          children = [];
        }
      }
    }
    blobs.set(b.digest, { size: b.size, createdAt: b.createdAt, children });
  });
  const snapshots: StoreGraph['snapshots'] = new Map();
  const fixedSnapshots: string[] = [];
  for (const r of await store.snapshots.records.list()) {
    const usage = await dirUsage(join(store.snapshots.dataDir, r.id));
    snapshots.set(r.name, { parent: r.parent, size: usage.size, createdAt: r.createdAt, kind: r.kind });
    if (r.kind !== 'committed' && r.pid !== undefined && pidAlive(r.pid)) fixedSnapshots.push(r.name);
  }
  const fixedBlobs: string[] = [];
  for (const t of await store.meta.tags.list()) fixedBlobs.push(t.target.digest);
  const leases = await store.meta.liveLeases(now);
  for (const l of leases) {
    fixedBlobs.push(...l.blobs);
    fixedSnapshots.push(...l.snapshots);
  }
  const layerBlobs = new Map<string, string[]>();
  for (const e of await store.meta.layers.list())
    layerBlobs.set(
      e.snapshot,
      e.layers.map((l) => l.digest),
    );
  const g: StoreGraph = {
    blobs,
    snapshots,
    fixedBlobs,
    fixedSnapshots,
    cache: await store.meta.cache.list(),
    layerBlobs,
  };
  // 20 ms of slack: file mtimes come from a coarse kernel clock that can lag Date.now() by a tick.
  if (leases.length > 0) g.protectAfter = Math.min(...leases.map((l) => l.createdAt)) - 20;
  return g;
}

async function dropBlobMemos(root: string, dropped: Set<string>): Promise<void> {
  for (const dir of [join(root, 'exporter', 'diff-size'), join(root, 'exporter', 'compressed')]) {
    for (const n of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (dropped.has(n.slice(0, 64))) await fsp.rm(join(dir, n), { force: true });
    }
  }
}

/** Dead leases, layer records of gone snapshots, temp files of dead writers, orphan snapshot dirs. */
async function sweepLeftovers(store: LocalStore, quiet: boolean): Promise<void> {
  const now = Date.now();
  // One listing, each lease judged on what was read: "not in an earlier live list" would also hit a
  // lease a build created between two listings, and its build would then run unleased (a later gc
  // drops the snapshot it just committed and mounts next: "builds racing prune --all").
  let live = 0;
  for (const l of await store.meta.leases.list()) {
    if (isLiveLease(l, now)) live++;
    else await store.meta.leases.delete(l.id);
  }
  const records = await store.snapshots.records.list();
  const idOf = new Map(records.map((r) => [r.name, r.id]));
  for (const e of await store.meta.layers.list())
    if (idOf.get(e.snapshot) !== e.snapshotId)
      await store.meta.layers.delete(layerCacheKey(e.snapshot, e.sourceDateEpoch));
  const ids = new Set(records.map((r) => r.id));
  const orphans = (await fsp.readdir(store.snapshots.dataDir)).filter((id) => !ids.has(id));
  // A listing that straddles a commit (committed record created, then the active one deleted) can
  // miss both records of that dir: the readdir saw only the active name, gone by the time it is read.
  // A second listing, after the first, sees the committed record; without it a RUN step longer than
  // the grace would lose its just-committed snapshot dir.
  if (orphans.length > 0) for (const r of await store.snapshots.records.list()) ids.add(r.id);
  for (const id of orphans) {
    if (ids.has(id)) continue;
    const st = await fsp.stat(join(store.snapshots.dataDir, id)).catch(() => undefined);
    // At once only when no build holds a lease now and the dir is older than that look: a build
    // leases before it allocates a dir, and a dir it just made has no record yet.
    const idle = quiet && live === 0 && st !== undefined && st.mtimeMs < now - 20;
    if (st && (idle || now - st.mtimeMs > ORPHAN_GRACE_MS)) {
      await fsp.rm(join(store.snapshots.dataDir, id), { recursive: true, force: true }).catch(() => {});
    }
  }
  await removeDeadTemps(store.root);
}

/**
 * `tmp/<pid>-…` (and `tmp/<word>-<pid>-…`) entries and `.name.tmp-<pid>-…` files whose process is gone.
 * Entries without a pid in their name belong to someone else and are left alone, and nothing with a
 * mount at or below it is touched: a killed build's mount dirs are the solver's to unmount, and
 * `rm -r` through a live overlay mount would delete snapshot content.
 */
export async function removeDeadTemps(root: string, dryRun = false): Promise<string[]> {
  const removed = await removeDeadTempDirs(root, dryRun);
  const metaDirs = ['tags', 'cache', 'leases', 'layers', 'statcache', 'snapshots', 'noop'].map((d) =>
    join(root, 'meta', d),
  );
  for (const dir of [...metaDirs, join(root, 'blobs', 'sha256')]) {
    for (const n of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (!isTempName(n)) continue;
      const pid = Number(n.split('.tmp-')[1]?.split('-')[0]);
      if (!pidAlive(pid)) {
        removed.push(join(dir, n));
        if (!dryRun) await fsp.rm(join(dir, n), { force: true });
      }
    }
  }
  return removed;
}

/**
 * The `tmp/` part of removeDeadTemps. Also run by every store open (beside the build): a build
 * killed mid-step leaves its snapshot tree, unpack or export dirs here.
 */
export async function removeDeadTempDirs(root: string, dryRun = false): Promise<string[]> {
  const removed: string[] = [];
  const tmp = await fsp.realpath(join(root, 'tmp')).catch(() => join(root, 'tmp'));
  const names = await fsp.readdir(tmp).catch(() => [] as string[]);
  const dead = names.filter((n) => {
    const m = /^(?:[a-z]+-)?(\d+)-/.exec(n);
    return m !== null && !pidAlive(Number(m[1]));
  });
  if (dead.length === 0) return removed;
  const mounts = await mountPoints();
  for (const n of dead) {
    const p = join(tmp, n);
    if (mounts.some((mp) => mp === p || mp.startsWith(`${p}/`))) continue;
    removed.push(p);
    if (!dryRun) await fsp.rm(p, { recursive: true, force: true });
  }
  return removed;
}

/** Mount points of this mount namespace (/proc/self/mountinfo field 5, octal escapes decoded). */
async function mountPoints(): Promise<string[]> {
  const text = await fsp.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) =>
        String.fromCharCode(Number.parseInt(o, 8)),
      ),
    );
}
