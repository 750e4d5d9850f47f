import { lstatSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { RunnerError } from './errors.js';

const MAX_SYMLINKS = 255;

/**
 * Resolves `unsafePath` inside `root` as if `root` were `/` (filepath-securejoin semantics): `..`
 * stops at the root and symlinks, absolute or relative, are followed within it. The result is a host
 * path that is always under `root`; components that do not exist yet are appended as they are.
 * A symlink swapped in after this returns can still race: callers only use it on trees no container runs on.
 */
export function secureJoin(root: string, unsafePath: string): string {
  let remaining = unsafePath.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (remaining.length > 0) {
    const part = remaining.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // missing components are fine: the rest is appended lexically (still clamped)
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new RunnerError('RUNNER_SYMLINK_LOOP', `too many symlinks resolving ${unsafePath}`);
    }
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    remaining = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...remaining];
  }
  return join(root, ...resolved);
}

/** Lexical clean of a container path: absolute, no `..` above `/`. */
export function cleanContainerPath(p: string, cwd = '/'): string {
  return posix.resolve('/', cwd, p);
}
