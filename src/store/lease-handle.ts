import type { Digest } from '../oci/index.js';
import type { Lease, LeaseHandle } from './types.js';

export interface LeaseIo {
  /** Replaces the lease file with this text (atomically: readers see the old or the new one). */
  write(text: string): Promise<void>;
  /** Waits for the gcs running now (store gc-marker). */
  waitGcs(): Promise<void>;
  remove(): Promise<unknown>;
}

/**
 * A lease updated in batches. A build adds in bursts (cache hits of several steps, an image's
 * manifest, config and layers): adds that arrive while a write is in flight go together into the
 * next one, so a burst costs one or two rewrites instead of one each. The guarantee per add is the
 * one-write-per-add one: it resolves once a write naming it is in place and the gcs running then
 * are done, so what the build finds present afterwards stays. An item already written resolves with
 * that write: its wait covered every gc that could have missed it.
 */
export function batchedLease(lease: Lease, io: LeaseIo): LeaseHandle {
  const written = new Map<string, Promise<void>>();
  // The batch that has not started writing yet (adds join it), and the last one queued.
  let open: Promise<void> | undefined;
  let tail: Promise<void> = Promise.resolve();
  const flush = async () => {
    // Serialized and detached in one tick: a later add cannot be half in this write.
    const text = JSON.stringify(lease);
    open = undefined;
    await io.write(text);
    await io.waitGcs();
  };
  const add = (key: string, apply: () => void): Promise<void> => {
    const known = written.get(key);
    if (known) return known;
    apply();
    if (!open) {
      open = tail.then(flush, flush);
      tail = open;
    }
    const p = open;
    written.set(key, p);
    // A failed write is retried by the next add of the same item.
    p.catch(() => written.get(key) === p && written.delete(key));
    return p;
  };
  return {
    id: lease.id,
    addBlob: (d: Digest) => add(`b:${d}`, () => void (lease.blobs.includes(d) || lease.blobs.push(d))),
    addSnapshot: (s: string) =>
      add(`s:${s}`, () => void (lease.snapshots.includes(s) || lease.snapshots.push(s))),
    release: async () => {
      await tail.catch(() => {});
      await io.remove();
    },
  };
}
