import { existsSync, lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { RootView } from './root-view.js';

/**
 * The container paths among `targets` (and their ancestors) that do not exist in the rootfs yet.
 * runc creates them as empty files/dirs to mount on; those stubs are not the step's work.
 */
export function findMissingPaths(view: RootView, targets: string[]): string[] {
  const missing = new Set<string>();
  for (const t of targets) {
    let p = posix.resolve('/', t);
    while (p !== '/' && !missing.has(p)) {
      if (view.exists(p)) break;
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
export function removeStubs(hostRoot: string, view: RootView, missing: string[]): void {
  const byDepth = [...missing].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const p of byDepth) {
    // Where the runtime created it: symlinks resolved in the container's view, then found on the host
    // in `hostRoot` (the mounted rootfs, or the upper when the overlay is not mounted here).
    const host = join(hostRoot, view.resolve(p));
    try {
      const st = lstatSync(host);
      if (st.isFile() && st.size === 0) unlinkSync(host);
      else if (st.isDirectory() && readdirSync(host).length === 0) rmdirSync(host);
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/** The existing ancestors of the stubs (dirs overlay copied up to create the stubs in them). */
export function stubParents(view: RootView, targets: string[], missing: string[]): StubParent[] {
  const missingSet = new Set(missing);
  const parents = new Set<string>();
  for (const t of targets) {
    let p = posix.dirname(posix.resolve('/', t));
    while (p !== '/') {
      if (!missingSet.has(p)) parents.add(p);
      p = posix.dirname(p);
    }
  }
  // An empty merged dir over non-empty lowers is an opaque dir (the step emptied it): real change.
  // Mark those the merged view shows entries in; pruneCopiedUpParents checks the rest against lowers.
  return [...parents].map((p) => ({ path: p, mergedNonEmpty: view.hasEntries(p) }));
}

export interface StubParent {
  path: string;
  mergedNonEmpty: boolean;
}

function emptyInAllLowers(lowers: string[], p: string): boolean {
  return lowers.every((l) => {
    try {
      return readdirSync(join(l, p)).length === 0;
    } catch {
      return true;
    }
  });
}

/** upperdir and lowerdirs (top first, absolute) of an overlay mount's options. */
export function overlayDirs(
  options: string[],
  cwd?: string,
  upperKey = 'upperdir',
): { upper: string; lowers: string[] } | undefined {
  const get = (k: string) => options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  const upper = get(upperKey);
  const lower = get('lowerdir');
  if (!upper || !lower) return undefined;
  const abs = (p: string) => posix.resolve(cwd ?? '/', p);
  return { upper: abs(upper), lowers: lower.split(':').map(abs) };
}

/**
 * After unmounting: a parent dir that overlay copied up only to hold stubs is now empty in the upper
 * with the same mode and owner as below. It is not the step's change, so it leaves the diff.
 * Run on the unmounted upper only (changing an upper under a live overlay is undefined).
 */
export function pruneCopiedUpParents(upper: string, lowers: string[], parents: StubParent[]): void {
  const byDepth = [...parents].sort((a, b) => b.path.split('/').length - a.path.split('/').length);
  for (const { path: p, mergedNonEmpty } of byDepth) {
    if (!mergedNonEmpty && !emptyInAllLowers(lowers, p)) continue;
    const up = join(upper, p);
    try {
      const st = lstatSync(up);
      if (!st.isDirectory() || readdirSync(up).length > 0) continue;
      const below = lowers.map((l) => join(l, p)).find((l) => existsSync(l));
      if (!below) continue;
      const lo = lstatSync(below);
      if (!lo.isDirectory() || lo.mode !== st.mode || lo.uid !== st.uid || lo.gid !== st.gid) continue;
      rmdirSync(up);
    } catch {
      // leave it: an extra unchanged dir in a layer is harmless
    }
  }
}
