import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
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
  const file = join(dir, `${process.pid}-${randomBytes(6).toString('hex')}`);
  await fsp.writeFile(file, '');
  return () => fsp.rm(file, { force: true });
}

/** Waits until the gcs running now (live owners) are done; later gcs are not waited for. */
export async function waitForRunningGcs(metaDir: string, pollMs = 20): Promise<void> {
  const dir = join(metaDir, 'gc-running');
  const running = async (names?: string[]) => {
    const all = names ?? (await fsp.readdir(dir).catch(() => [] as string[]));
    const live: string[] = [];
    for (const n of all) {
      const pid = Number(n.split('-')[0]);
      if (!Number.isInteger(pid) || !pidAlive(pid)) continue;
      if (
        await fsp.access(join(dir, n)).then(
          () => true,
          () => false,
        )
      )
        live.push(n);
    }
    return live;
  };
  let waiting = await running();
  while (waiting.length > 0) {
    await new Promise((r) => setTimeout(r, pollMs));
    waiting = await running(waiting);
  }
}
