import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { cacheMountsUsage } from './cache-mounts.js';
import { loadGraph } from './gc.js';
import { planGc } from './gc-plan.js';
import { dirUsage } from './snapshot/snapshotter.js';
import type { LocalStore } from './store.js';
import type { DiskUsageEntry } from './types.js';

/** What uses the space, by kind; `reclaimable` is what a plain `prune` (`--all` for cache and cache mounts) would free now. */
export async function diskUsage(store: LocalStore): Promise<DiskUsageEntry[]> {
  const g = await loadGraph(store);
  const plan = planGc(g, {});
  const all = planGc(g, { all: true });
  const dropB = new Set(plan.dropBlobs);
  const dropS = new Set(plan.dropSnapshots);
  const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);
  const blobs = [...g.blobs.entries()];
  const snaps = [...g.snapshots.entries()];
  const ingest = await dirUsage(join(store.root, 'ingest'));
  const meta = await dirUsage(join(store.root, 'meta'));
  const tmp = await dirUsage(join(store.root, 'tmp'));
  const mounts = await cacheMountsUsage(store.root);
  const ingestCount = (await fsp.readdir(join(store.root, 'ingest')).catch(() => [])).length;
  return [
    {
      kind: 'blobs',
      count: blobs.length,
      size: sum(blobs.map(([, b]) => b.size)),
      reclaimable: sum(blobs.filter(([d]) => dropB.has(d)).map(([, b]) => b.size)),
    },
    {
      kind: 'snapshots',
      count: snaps.length,
      size: sum(snaps.map(([, s]) => s.size)),
      reclaimable: sum(snaps.filter(([n]) => dropS.has(n)).map(([, s]) => s.size)),
    },
    { kind: 'cache', count: g.cache.length, size: all.bytes, reclaimable: all.bytes },
    // What `prune --all` frees when no build runs.
    { kind: 'cache-mounts', count: mounts.count, size: mounts.size, reclaimable: mounts.size },
    { kind: 'ingest', count: ingestCount, size: ingest.size, reclaimable: ingest.size },
    { kind: 'meta', count: meta.inodes, size: meta.size, reclaimable: 0 },
    { kind: 'tmp', count: tmp.inodes, size: tmp.size, reclaimable: tmp.size },
  ];
}
