import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { pidAlive } from '../store/index.js';
import { RunnerError } from './errors.js';

/** Creates the lock file exclusively; a lock whose owner process is gone (kill -9) is taken over. */
export function tryLock(path: string): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(path, 'utf8'));
      } catch {
        continue; // released meanwhile: try again
      }
      // A lock being written has no pid yet (NaN): treat it as held.
      if (Number.isNaN(owner) || pidAlive(owner)) return false;
      rmSync(path, { force: true });
    }
  }
  return false;
}

/**
 * An exclusive lock between processes and within this one (a file created with O_EXCL holding the
 * owner's pid). Waits, polling, until it is free or `signal` aborts. Returns the release function.
 */
export async function acquireLock(path: string, signal?: AbortSignal): Promise<() => void> {
  for (;;) {
    if (signal?.aborted)
      throw new RunnerError('RUN_CANCELLED', 'cancelled while waiting for a cache mount lock');
    if (tryLock(path)) return () => rmSync(path, { force: true });
    await new Promise((r) => setTimeout(r, 50));
  }
}
