import { lstatSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { RunnerError } from './errors.js';

const MAX_SYMLINKS = 255;

/**
 * Resolves `unsafePath` inside a root as if it were `/` (filepath-securejoin semantics): `..` stops
 * at the root and symlinks, absolute or relative, are followed within it. `readLink(p)` gives the
 * target of the symlink at container path `p` (absolute, already resolved) or undefined when `p` is
 * not one (missing components are appended as they are, still clamped). Returns a container path.
 */
export function resolveContainerPath(
  unsafePath: string,
  readLink: (p: string) => string | undefined,
): string {
  let remaining = unsafePath.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (remaining.length > 0) {
    const part = remaining.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const target = readLink(`/${[...resolved, part].join('/')}`);
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new RunnerError('RUNNER_SYMLINK_LOOP', `too many symlinks resolving ${unsafePath}`);
    }
    if (target.startsWith('/')) resolved.length = 0;
    remaining = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...remaining];
  }
  return `/${resolved.join('/')}`;
}

/**
 * `resolveContainerPath` on a host directory `root`: the result is a host path always under `root`.
 * A symlink swapped in after this returns can still race: callers only use it on trees no container runs on.
 */
export function secureJoin(root: string, unsafePath: string): string {
  return join(
    root,
    resolveContainerPath(unsafePath, (p) => {
      const host = join(root, p);
      try {
        return lstatSync(host).isSymbolicLink() ? readlinkSync(host) : undefined;
      } catch {
        return undefined;
      }
    }),
  );
}

/** Lexical clean of a container path: absolute, no `..` above `/`. */
export function cleanContainerPath(p: string, cwd = '/'): string {
  return posix.resolve('/', cwd, p);
}
