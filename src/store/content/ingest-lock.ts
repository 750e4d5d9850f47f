import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { isEnoent, pidAlive } from '../atomic.js';
import { StoreError } from '../errors.js';

export interface LockInfo {
  pid: number;
  ref: string;
  startedAt: number;
}

/** A lock file with no readable owner (corrupt: locks are linked into place whole): stale after this. */
const UNREADABLE_GRACE_MS = 2_000;

/** Reads a lock: its owner, whether that owner is alive, and its age. */
export async function readLock(
  dir: string,
): Promise<{ info?: LockInfo; alive: boolean; ageMs: number } | undefined> {
  const path = join(dir, 'lock');
  let st: import('node:fs').Stats;
  try {
    st = await fsp.stat(path);
  } catch (e) {
    if (isEnoent(e)) return undefined;
    throw e;
  }
  const ageMs = Date.now() - st.mtimeMs;
  try {
    const info = JSON.parse(await fsp.readFile(path, 'utf8')) as LockInfo;
    return { info, alive: pidAlive(info.pid), ageMs };
  } catch {
    return { alive: ageMs < UNREADABLE_GRACE_MS, ageMs };
  }
}

/**
 * Takes the per-ref ingest lock, failing fast (INGEST_LOCKED, with the lock's age) if a live process
 * holds it. A lock left by a dead process (kill -9) is taken over.
 */
export async function acquireIngestLock(dir: string, ref: string): Promise<void> {
  await ensureDir(dir);
  const path = join(dir, 'lock');
  const body = JSON.stringify({ pid: process.pid, ref, startedAt: Date.now() } satisfies LockInfo);
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written in full to a temp name, then link()ed into place (EEXIST = held): a lock file is never
    // seen half-written, even after a kill -9 between the two steps.
    // The temp file lives beside the ingest dirs, not in one: a releasing writer may be removing
    // that dir right now.
    const tmp = join(dir, '..', `.lock-${process.pid}-${attempt}-${Date.now()}.tmp`);
    try {
      await fsp.writeFile(tmp, body);
      await fsp.link(tmp, path);
      await fsp.rm(tmp, { force: true });
      return;
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      const code = (e as NodeJS.ErrnoException).code;
      // ENOENT: a cleaner removed the (lock-less) dir between our mkdir and this create.
      if (code === 'ENOENT') {
        await ensureDir(dir);
        continue;
      }
      if (code !== 'EEXIST') throw e;
    }
    const held = await readLock(dir);
    if (held?.alive) {
      const age = Math.round(held.ageMs / 1000);
      throw new StoreError('INGEST_LOCKED', `ingest ${JSON.stringify(ref)} is locked (for ${age}s)`, {
        hint: `another writer (pid ${held.info?.pid ?? '?'}) is writing this blob; retry when it finishes`,
      });
    }
    // Stale: its owner died. Remove and retry (mkdir again: a racing cleaner may have removed the dir).
    await fsp.rm(path, { force: true });
    await ensureDir(dir);
  }
  throw new StoreError('INGEST_LOCKED', `could not lock ingest ${JSON.stringify(ref)}`);
}

/**
 * Releases an ingest: its files first, the lock last, then the dir only if empty. Never `rm -rf`:
 * another writer may already hold a fresh lock in the same dir.
 */
export async function releaseIngest(dir: string): Promise<void> {
  for (const f of ['data', 'ref']) await fsp.rm(join(dir, f), { force: true });
  await fsp.rm(join(dir, 'lock'), { force: true });
  await fsp.rmdir(dir).catch(() => {});
}

/**
 * mkdir that tolerates a racing rmdir: a releasing writer removes the (empty) dir at any moment, and
 * Node's recursive mkdir reports ENOENT when the dir vanishes between its EEXIST and its stat.
 */
async function ensureDir(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await fsp.mkdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      if (code !== 'ENOENT' || i > 5) throw e;
      await fsp.mkdir(join(dir, '..'), { recursive: true });
    }
  }
}
