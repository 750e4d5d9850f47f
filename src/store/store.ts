import { promises as fsp, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isEnoent, isTempName, pidAlive } from './atomic.js';
import { LocalContentStore } from './content/local-content-store.js';
import { diskUsage } from './du.js';
import { fsck } from './fsck.js';
import { gc, removeDeadTempDirs } from './gc.js';
import { FileMetaStore } from './meta.js';
import { probeSnapshotter } from './snapshot/probe.js';
import { LocalSnapshotter } from './snapshot/snapshotter.js';
import { spreadDir } from './spread-dir.js';
import { markTopDir } from './top-dir.js';
import type { OpenStoreOptions, SnapshotInfo, Store } from './types.js';

/** The store's parts with their concrete types (gc, fsck and du use internals). */
export interface LocalStore extends Store {
  content: LocalContentStore;
  snapshots: LocalSnapshotter;
  meta: FileMetaStore;
  /** Why overlay was not used, when the copy snapshotter was selected. */
  snapshotterReason?: string;
}

/**
 * Opens (creating if needed) the store at `root`: blobs/sha256, ingest, snapshots/<id>/{fs,work},
 * meta (tags, cache, leases, layers, statcache, snapshots), tmp. The snapshotter is overlay when a
 * probe mount works here, else the copy fallback (`store.snapshots.kind` says which).
 * `sweep: 'background'` (a build) does not wait for the removal of dead processes' scratch
 * snapshots (found with one sync pass over the records), layer ingests and `tmp/` dirs: it runs
 * beside the build, `close()` waits.
 */
export async function openStore(
  root: string,
  opts: OpenStoreOptions & { sweep?: 'now' | 'background' } = {},
): Promise<LocalStore> {
  root = resolve(root);
  // Sync: on an existing store each is one mkdir that finds the dir there (~10 µs), where the
  // promise API spends a thread-pool round trip on each.
  for (const d of ['blobs/sha256', 'ingest', 'snapshots', 'meta'])
    mkdirSync(join(root, d), { recursive: true });
  // Awaited before a snapshot tree or temp dir is made in it (markTopDir: placement is decided when
  // a directory is made), not here: a cold build has ~0.1 s of other work before its first one.
  const tmpMarked =
    mkdirSync(join(root, 'tmp'), { recursive: true }) !== undefined
      ? markTopDir(join(root, 'tmp'))
      : Promise.resolve();
  const content = new LocalContentStore(root);
  const meta = new FileMetaStore(join(root, 'meta'));
  const [probe] = await Promise.all([probeFor(root, opts), content.init(), meta.init()]);
  const tempDir = async (prefix = 'tmp') => {
    await tmpMarked;
    // Where inodes allocate fast (spreadDir): snapshot trees, unpacks, checkouts, context mirrors.
    return spreadDir(join(root, 'tmp', `${process.pid}-${prefix}-`));
  };
  const snapshots = new LocalSnapshotter(root, probe.kind, probe.overlayOptions, () => tempDir('snap'));
  await snapshots.records.init();
  const sweeping = Promise.all([
    dropDeadActiveSnapshots(snapshots),
    content.sweepDeadLayerIngests(),
    removeDeadTempDirs(root),
  ]);
  if (opts.sweep === 'background') sweeping.catch(() => {});
  else await sweeping;
  const store: LocalStore = {
    root,
    content,
    snapshots,
    meta,
    tempDir,
    gc: (o) => gc(store, o),
    fsck: (o) => fsck(store, o),
    du: () => diskUsage(store),
    // A failed background sweep is retried by the next open.
    close: () =>
      Promise.all([sweeping, tmpMarked]).then(
        () => {},
        () => {},
      ),
  };
  if ('reason' in probe && probe.reason) store.snapshotterReason = probe.reason;
  return store;
}

async function probeFor(root: string, opts: OpenStoreOptions) {
  const probe = opts.snapshotter
    ? { kind: opts.snapshotter, overlayOptions: opts.snapshotter === 'overlay' ? ['index=off'] : [] }
    : await probeSnapshotter(root);
  if (opts.snapshotter === 'overlay') {
    const p = await probeSnapshotter(root);
    if (p.kind === 'overlay') probe.overlayOptions = p.overlayOptions;
  }
  return probe;
}

/**
 * Active and view snapshots are scratch of one process (a RUN's upper, a mount for a COPY). After a
 * kill -9 nobody will commit them: drop them on open so the next build starts clean.
 */
async function dropDeadActiveSnapshots(snapshots: LocalSnapshotter): Promise<void> {
  const dead = (r: SnapshotInfo) => r.kind !== 'committed' && r.pid !== undefined && !pidAlive(r.pid);
  // Only after a kill -9 is there anything to drop; only then is every record read (whose dir an
  // active one shares is decided below).
  if (!snapshots.records.liveSync().some(dead)) return;
  const all = listRecordsSync(snapshots.records.recordsDir);
  for (const r of all) {
    if (!dead(r)) continue;
    await snapshots.records.delete(r.name);
    // Killed inside commit(): the committed record already owns this dir.
    if (all.some((o) => o !== r && o.id === r.id)) continue;
    await fsp.rm(join(snapshots.dataDir, r.id), { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * Every snapshot record, read with sync calls: every open reads them all, and a small file costs
 * some 20 µs this way against ~0.15 ms of main-thread CPU through the promise API (open, fstat,
 * read, close as four round trips). A record that vanished or does not parse is skipped (fsck's).
 */
function listRecordsSync(dir: string): SnapshotInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (isEnoent(e)) return [];
    throw e;
  }
  const out: SnapshotInfo[] = [];
  for (const n of names) {
    if (!n.endsWith('.json') || isTempName(n)) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as SnapshotInfo);
    } catch {
      // gone since the listing (a commit or gc) or corrupt
    }
  }
  return out;
}
