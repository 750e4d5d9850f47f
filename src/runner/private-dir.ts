import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from '../store/index.js';

const NAME = /^tsbuild-(secret|ssh)-(?:(\d+)-)?[0-9a-f]{16}$/;
/** Names without a pid (made before it was in them) are judged by age: no RUN holds one this long. */
const UNOWNED_MAX_AGE_MS = 24 * 3600_000;
const swept = new Set<string>();

/**
 * A 0700 dir of this process for a step's secret file or ssh socket, in `base` (a tmpfs:
 * /dev/shm). Its name holds the pid: a build killed with -9 cannot remove its dirs, and a secret
 * must not outlive it on the host, so the first call of each process in `base` removes those of
 * dead processes.
 */
export function privateDir(base: string, kind: 'secret' | 'ssh'): string {
  if (!swept.has(base)) {
    swept.add(base);
    sweepDead(base);
  }
  const dir = join(base, `tsbuild-${kind}-${process.pid}-${randomBytes(8).toString('hex')}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

function sweepDead(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    const m = NAME.exec(name);
    if (!m) continue;
    const path = join(base, name);
    const dead =
      m[2] !== undefined
        ? !pidAlive(Number(m[2]))
        : now - (lstatSync(path, { throwIfNoEntry: false })?.mtimeMs ?? now) > UNOWNED_MAX_AGE_MS;
    if (dead) rmSync(path, { recursive: true, force: true });
  }
}
