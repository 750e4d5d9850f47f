import type { Store } from '../store/index.js';
import type { FamilyRecord, FamilyResult } from './content-cache.js';
import type { SolvedFs } from './ops/index.js';
import type { CacheIndex } from './scheduler.js';

/** The scheduler's cache index, plus `settle()`: wait for the record writes still in flight. */
export interface BuildCacheIndex extends CacheIndex {
  settle(): Promise<void>;
}

/**
 * Cache records in the store: a record whose snapshot is gone (pruned) is a miss. A new record is
 * written beside the build rather than before the step's dependents start (an fsynced write per step
 * on the critical path): `settle()` waits for them, and the build does so before its lease goes,
 * since until a record names a new snapshot only the lease keeps it from gc.
 */
export function cacheIndex(store: Store, retain: (s: string) => Promise<void>): BuildCacheIndex {
  const id = (k: string) => k.replace(/^sha256:/, '');
  const writes: Promise<void>[] = [];
  let failed: { error: unknown } | undefined;
  return {
    async get(key) {
      const rec = await store.meta.cache.get(id(key));
      if (!rec?.snapshot) return undefined;
      // Lease first, then look: the lease waits for a gc that read the leases before it (store
      // gc-marker), so a snapshot still there now stays; one already gone is a miss.
      await retain(rec.snapshot);
      if (!(await store.snapshots.tryStat(rec.snapshot))) return undefined;
      const stored = rec.result as { layers?: SolvedFs['layers']; family?: FamilyRecord } | undefined;
      const family = stored?.family ? { family: stored.family } : {};
      return { snapshot: rec.snapshot, layers: stored?.layers ?? [], ...family } as SolvedFs;
    },
    async put(key, result) {
      const r = result as SolvedFs & FamilyResult;
      if (!r.snapshot) return;
      const now = Date.now();
      const write = store.meta.cache.put(id(key), {
        key: id(key),
        snapshot: r.snapshot,
        result: { layers: r.layers, ...(r.family ? { family: r.family } : {}) },
        createdAt: now,
        lastUsed: now,
      });
      writes.push(
        write.catch((error: unknown) => {
          failed ??= { error };
        }),
      );
    },
    async settle() {
      // Records written while waiting (a step finishing late) join the wait.
      for (let done = 0; done < writes.length; ) {
        const end = writes.length;
        await Promise.all(writes.slice(done, end));
        done = end;
      }
      if (failed) throw failed.error;
    },
  };
}
