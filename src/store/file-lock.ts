import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from './atomic.js';

/**
 * A lock file with no pid in it: its owner is between open and write, or was killed there (kill -9).
 * Held for this long after its last change, then stale (the ingest lock's rule).
 */
const UNWRITTEN_GRACE_MS = 2_000;

export interface TryLockOptions {
  /**
   * A lock not touched for this long is stale even if its pid is alive: the owner refreshes it
   * (`heartbeat`), so an old one means a stopped owner or a pid reused by another process.
   */
  staleMs?: number;
}

/**
 * Creates the lock file exclusively, holding this process's pid; a lock whose owner is gone
 * (kill -9) is taken over. Two takers of one stale lock may both get it in a narrow race: callers
 * use it to avoid duplicated work, never as the only guard of a store invariant.
 */
export function tryLock(path: string, opts: TryLockOptions = {}): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const held = lockState(path);
      if (held === 'gone') continue; // released meanwhile: try again
      if (held.alive && (opts.staleMs === undefined || held.ageMs < opts.staleMs)) return false;
      rmSync(path, { force: true });
    }
  }
  return false;
}

function lockState(path: string): 'gone' | { alive: boolean; ageMs: number } {
  let text: string;
  let ageMs: number;
  try {
    text = readFileSync(path, 'utf8');
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch {
    return 'gone';
  }
  const owner = Number(text);
  if (text === '' || !Number.isInteger(owner)) return { alive: ageMs < UNWRITTEN_GRACE_MS, ageMs };
  return { alive: pidAlive(owner), ageMs };
}

/** `<root>/locks`: the store's cross-process lock files (pull locks). */
export const locksDir = (root: string): string => join(root, 'locks');

/**
 * Removes the lock files in `dir` whose owner is dead (killed while it held one); a live owner's
 * lock stays, however old.
 */
export function sweepDeadLocks(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    const held = lockState(path);
    if (held !== 'gone' && !held.alive) rmSync(path, { force: true });
  }
}

/** The pid a lock file holds, as written ('' when it is gone or not written yet). */
export function lockHolder(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Releases a lock this process holds. Not one taken over meanwhile (this process stalled past a
 * `staleMs`, or its lock was judged dead): that lock is its new owner's.
 */
export function unlock(path: string): void {
  if (lockHolder(path) === String(process.pid)) rmSync(path, { force: true });
}

/** Keeps a held lock fresh (see `staleMs`) until the returned function stops it. */
export function heartbeat(path: string, everyMs: number): () => void {
  const t = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      // released or taken over: nothing to keep fresh
    }
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}

/**
 * Waits, polling every 50 ms, until `tryLock` succeeds. `cancelled` makes the error thrown when
 * `signal` aborts; `maxWaitMs` gives up (returns undefined) instead of waiting longer.
 */
export async function acquireFileLock(
  path: string,
  opts: TryLockOptions & { signal?: AbortSignal; cancelled: () => Error; maxWaitMs?: number },
): Promise<(() => void) | undefined> {
  const until = opts.maxWaitMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.maxWaitMs;
  for (;;) {
    if (opts.signal?.aborted) throw opts.cancelled();
    if (tryLock(path, opts)) return () => unlock(path);
    if (Date.now() >= until) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
}
