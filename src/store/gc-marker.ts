import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from './atomic.js';

/**
 * A gc in progress leaves `meta/gc-running/<pid>-<random>` from before it reads the leases until its
 * sweep is over. A lease update waits for the gcs it sees there once the update is on disk: a gc
 * that read the leases earlier may still remove what the build is about to reuse, and one that
 * starts later sees the lease. So after `addSnapshot`/`addBlob` returns, a build's "is it still
 * there?" check is final (the store's answer to a build racing `prune --all`).
 */
export async function markGcRunning(metaDir: string): Promise<() => Promise<void>> {
  const dir = join(metaDir, 'gc-running');
  await fsp.mkdir(dir, { recursive: true });
  const file = join(dir, `${process.pid}-${startTime(process.pid) ?? 0}-${randomBytes(6).toString('hex')}`);
  await fsp.writeFile(file, '');
  return () => fsp.rm(file, { force: true });
}

/** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22): pid + this is unique. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Waits until the gcs running now (live owners) are done; later gcs are not waited for. */
export async function waitForRunningGcs(metaDir: string, pollMs = 20): Promise<void> {
  const dir = join(metaDir, 'gc-running');
  // Sync calls: every lease update looks here, and the dir is almost always absent or empty.
  const running = (names?: string[]) => {
    let all = names;
    if (!all) {
      try {
        all = readdirSync(dir);
      } catch {
        all = [];
      }
    }
    const live: string[] = [];
    for (const n of all) {
      const [pidText, started] = n.split('-');
      const pid = Number(pidText);
      // A marker of a killed gc whose pid now belongs to another process must not block builds.
      if (!Number.isInteger(pid) || !pidAlive(pid) || String(startTime(pid) ?? 0) !== started) continue;
      if (existsSync(join(dir, n))) live.push(n);
    }
    return live;
  };
  let waiting = running();
  while (waiting.length > 0) {
    await new Promise((r) => setTimeout(r, pollMs));
    waiting = running(waiting);
  }
}
