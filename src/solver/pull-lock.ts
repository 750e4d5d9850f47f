import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  acquireFileLock,
  heartbeat,
  lockHolder,
  locksDir,
  type Store,
  tryLock,
  unlock,
} from '../store/index.js';

/** The holder touches its lock this often; a lock untouched for STALE_MS is taken over. */
const HEARTBEAT_MS = 5_000;
const STALE_MS = 30_000;
/** A pull that takes longer than this is not waited for: the waiter pulls too (as without a lock). */
const MAX_WAIT_MS = 15 * 60_000;

export interface PullLock {
  /** Another process held it: what it pulled is in the store now (or it failed). */
  waited: boolean;
  release(): void;
}

/**
 * One pull of a reference per store at a time, across processes. Concurrent cold builds (CI jobs
 * sharing a store) would otherwise each download and unpack the same base image and throw away all
 * but the first commit. Correctness never rests on it: commits are atomic and first-wins, so a
 * stale or broken lock only costs the duplicated work it exists to save.
 */
export async function lockPull(
  store: Store,
  key: string,
  signal: AbortSignal,
  onWait?: (holder: string) => void,
): Promise<PullLock> {
  const dir = locksDir(store.root);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `pull-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`);
  let waited = false;
  if (!tryLock(path, { staleMs: STALE_MS })) {
    waited = true;
    onWait?.(lockHolder(path));
    const got = await acquireFileLock(path, {
      staleMs: STALE_MS,
      signal,
      maxWaitMs: MAX_WAIT_MS,
      cancelled: () => signal.reason,
    });
    if (!got) return { waited, release: () => {} };
  }
  const stop = heartbeat(path, HEARTBEAT_MS);
  let held = true;
  return {
    waited,
    release: () => {
      if (!held) return;
      held = false;
      stop();
      unlock(path);
    },
  };
}
