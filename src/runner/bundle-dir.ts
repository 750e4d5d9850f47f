import { statfsSync } from 'node:fs';
import { join } from 'node:path';

const TMPFS_MAGIC = 0x01021994;
const SHM = '/dev/shm';

let shmIsTmpfs: boolean | undefined;

/**
 * Where runtime bundles (config.json, the /etc files, the rootfs mount point) live while a step runs:
 * `/dev/shm/tsbuild-runner` when that is a tmpfs (they are small, short-lived and rewritten per step;
 * on a busy disk their create/unlink cost is a measurable part of a `RUN true`), else
 * `<root>/runner`. Each bundle holds its owner's pid so leftovers of a killed process can be swept.
 */
export function bundleRoot(root: string): string {
  if (shmIsTmpfs === undefined) {
    try {
      shmIsTmpfs = statfsSync(SHM).type === TMPFS_MAGIC;
    } catch {
      shmIsTmpfs = false;
    }
  }
  return shmIsTmpfs ? join(SHM, 'tsbuild-runner') : join(root, 'runner');
}
