import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { resolveContainerPath, secureJoin } from './secure-join.js';

/**
 * A read-only view of a container's root filesystem before it runs: either a mounted dir, or the
 * layers of an overlay not mounted on the host (runc mounts it inside the container's own mount
 * namespace, so it never needs an unmount). Paths resolve inside the root, symlinks included.
 */
export interface RootView {
  /** whether the path (symlinks followed, inside the root) exists */
  exists(path: string): boolean;
  /** the file's content (symlinks followed), undefined when missing */
  readFile(path: string): string | undefined;
  /** whether the dir shows any entry */
  hasEntries(path: string): boolean;
  /** the path with every symlink resolved inside the root (where a runtime would create it) */
  resolve(path: string): string;
}

export function dirView(root: string): RootView {
  return {
    exists(p) {
      try {
        lstatSync(secureJoin(root, p));
        return true;
      } catch {
        return false;
      }
    },
    readFile(p) {
      try {
        return readFileSync(secureJoin(root, p), 'utf8');
      } catch {
        return undefined;
      }
    },
    hasEntries(p) {
      try {
        return readdirSync(secureJoin(root, p)).length > 0;
      } catch {
        return false;
      }
    },
    resolve: (p) => `/${relative(root, secureJoin(root, p))}`,
  };
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

function tryLstat(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/**
 * The topmost entry for `path` (already resolved, absolute) across layers, overlay style: a whiteout
 * hides it, and so does a parent that is a whiteout or a non-directory in a higher layer. Opaque
 * dirs are not seen (reading the xattr needs getxattr(2), which Node lacks): a path deleted by an
 * opaque dir and present deeper counts as present, which only means a stub is kept, not lost.
 */
function topEntry(layers: string[], path: string): { host: string; st: Stats } | undefined {
  for (const l of layers) {
    const host = join(l, path);
    const st = tryLstat(host);
    if (st) return isWhiteout(st) ? undefined : { host, st };
    const parent = tryLstat(join(l, posix.dirname(path)));
    if (parent && (!parent.isDirectory() || isWhiteout(parent))) return undefined;
  }
  return undefined;
}

/** Resolves `path` inside the layered root (securejoin semantics), following every symlink. */
function resolveLayered(layers: string[], path: string): string {
  return resolveContainerPath(path, (p) => {
    const e = topEntry(layers, p);
    return e?.st.isSymbolicLink() ? readlinkSync(e.host) : undefined;
  });
}

/** A view of overlay layers, topmost first (the upper, then the lowers). */
export function layeredView(layers: string[]): RootView {
  const entry = (p: string) => topEntry(layers, resolveLayered(layers, p));
  return {
    exists: (p) => entry(p) !== undefined,
    resolve: (p) => resolveLayered(layers, p),
    readFile(p) {
      const e = entry(p);
      if (!e?.st.isFile()) return undefined;
      return readFileSync(e.host, 'utf8');
    },
    hasEntries(p) {
      const path = resolveLayered(layers, p);
      for (const l of layers) {
        const st = tryLstat(join(l, path));
        if (!st) continue;
        if (!st.isDirectory()) return false;
        try {
          const names = readdirSync(join(l, path));
          if (names.some((n) => !isWhiteout(lstatSync(join(l, path, n))))) return true;
        } catch {
          return false;
        }
      }
      return false;
    },
  };
}
