import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markGcRunning, waitForRunningGcs } from '../../src/store/gc-marker.js';

describe('gc-running markers (a lease update waits for a gc that read the leases before it)', () => {
  it('waits for a running gc, not for later ones, and ignores markers of dead or reused pids', async () => {
    const meta = mkdtempSync(join(tmpdir(), 'tsb-gcmark-'));
    await waitForRunningGcs(meta); // no dir yet: returns at once
    const done = await markGcRunning(meta);
    let waited = false;
    const w = waitForRunningGcs(meta, 5).then(() => {
      waited = true;
    });
    await new Promise((r) => setTimeout(r, 60));
    expect(waited).toBe(false);
    // A gc starting after the wait began is not waited for (it sees the lease).
    const later = await markGcRunning(meta);
    await done();
    await w;
    expect(waited).toBe(true);
    await later();
    // pid 1 is alive but did not write this (its start time differs); a dead pid's marker neither.
    mkdirSync(join(meta, 'gc-running'), { recursive: true });
    writeFileSync(join(meta, 'gc-running', '1-999999999-abc'), '');
    writeFileSync(join(meta, 'gc-running', '999999999-0-abc'), '');
    const t = Date.now();
    await waitForRunningGcs(meta);
    expect(Date.now() - t).toBeLessThan(500);
  });
});
