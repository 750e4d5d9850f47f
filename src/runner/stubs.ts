import { lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { secureJoin } from './secure-join.js';

function exists(rootfsDir: string, containerPath: string): boolean {
  try {
    lstatSync(secureJoin(rootfsDir, containerPath));
    return true;
  } catch {
    return false;
  }
}

/**
 * The container paths among `targets` (and their ancestors) that do not exist in the rootfs yet.
 * runc creates them as empty files/dirs to mount on; those stubs are not the step's work.
 */
export function findMissingPaths(rootfsDir: string, targets: string[]): string[] {
  const missing = new Set<string>();
  for (const t of targets) {
    let p = posix.resolve('/', t);
    while (p !== '/' && !missing.has(p)) {
      if (exists(rootfsDir, p)) break;
      missing.add(p);
      p = posix.dirname(p);
    }
  }
  return [...missing];
}

/**
 * Removes the stubs the runtime left for paths that were missing before the run: empty regular files
 * and empty directories only, deepest first, so anything the step itself put there stays.
 */
export function removeStubs(rootfsDir: string, missing: string[]): void {
  const byDepth = [...missing].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const p of byDepth) {
    const host = secureJoin(rootfsDir, p);
    try {
      const st = lstatSync(host);
      if (st.isFile() && st.size === 0) unlinkSync(host);
      else if (st.isDirectory() && readdirSync(host).length === 0) rmdirSync(host);
    } catch {
      // gone already, or not ours to remove
    }
  }
}
