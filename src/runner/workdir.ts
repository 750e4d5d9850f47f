import { chmodSync, chownSync, lstatSync, mkdirSync } from 'node:fs';
import { posix } from 'node:path';
import { RunnerError } from './errors.js';
import { secureJoin } from './secure-join.js';

/**
 * Creates `path` (a container path; relative is taken from `cwd`) inside `rootfsDir` with its missing
 * parents, mode 0755, and chowns every directory it created to `owner` (as BuildKit's WORKDIR does
 * with the current USER); existing directories keep their owner. Returns the cleaned container path.
 */
export function ensureWorkdir(
  rootfsDir: string,
  path: string,
  owner: { uid: number; gid: number } = { uid: 0, gid: 0 },
  cwd = '/',
): string {
  const clean = posix.resolve('/', cwd, path);
  const parts = clean.split('/').filter(Boolean);
  let current = '/';
  for (const part of parts) {
    current = posix.join(current, part);
    // Resolve each prefix again: a symlinked component must stay inside the rootfs.
    const host = secureJoin(rootfsDir, current);
    let st: ReturnType<typeof lstatSync> | undefined;
    try {
      st = lstatSync(host);
    } catch {
      st = undefined;
    }
    if (st === undefined) {
      mkdirSync(host);
      chmodSync(host, 0o755);
      chownSync(host, owner.uid, owner.gid);
    } else if (!st.isDirectory()) {
      throw new RunnerError(
        'RUNNER_NOT_A_DIRECTORY',
        `cannot create working directory ${clean}: ${current} is not a directory`,
      );
    }
  }
  return clean;
}
