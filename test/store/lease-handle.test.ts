import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/index.js';
import { batchedLease } from '../../src/store/lease-handle.js';
import type { Lease } from '../../src/store/types.js';

function setup(opts: { failFirst?: boolean } = {}) {
  const lease: Lease = { id: 'l', createdAt: 0, expiresAt: 1, blobs: [], snapshots: [] };
  const writes: Lease[] = [];
  const waits: number[] = [];
  let fail = opts.failFirst ?? false;
  const handle = batchedLease(lease, {
    write: async (text) => {
      await new Promise((r) => setTimeout(r, 5));
      if (fail) {
        fail = false;
        throw new Error('disk full');
      }
      writes.push(JSON.parse(text) as Lease);
    },
    waitGcs: async () => void waits.push(writes.length),
    remove: async () => undefined,
  });
  return { handle, writes, waits };
}

const d = (n: number) => `sha256:${String(n).padStart(64, '0')}` as Digest;

describe('batched lease updates', () => {
  it('a burst of adds is one write; each add resolves after a write naming it and the gc wait', async () => {
    const { handle, writes, waits } = setup();
    await Promise.all([handle.addBlob(d(1)), handle.addBlob(d(2)), handle.addSnapshot('s1')]);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ blobs: [d(1), d(2)], snapshots: ['s1'] });
    expect(waits).toEqual([1]);
    // Already written: no new write.
    await handle.addBlob(d(1));
    expect(writes).toHaveLength(1);
  });

  it('adds made while a write is in flight go into the next write, not the running one', async () => {
    const { handle, writes } = setup();
    const first = handle.addBlob(d(1));
    await new Promise((r) => setTimeout(r, 1)); // the first write has started
    const second = Promise.all([handle.addBlob(d(2)), handle.addBlob(d(3))]);
    await first;
    expect(writes[0]?.blobs).toEqual([d(1)]);
    await second;
    expect(writes).toHaveLength(2);
    expect(writes[1]?.blobs).toEqual([d(1), d(2), d(3)]);
  });

  it('a failed write rejects its adds; adding the same item again writes it', async () => {
    const { handle, writes } = setup({ failFirst: true });
    await expect(handle.addBlob(d(1))).rejects.toThrow('disk full');
    await handle.addBlob(d(1));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.blobs).toEqual([d(1)]);
    await handle.release();
  });
});
