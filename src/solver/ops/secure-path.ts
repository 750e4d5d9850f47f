import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { TsbuildError } from '../../errors.js';

/**
 * Resolves a container path inside `root` as if `root` were `/` (securejoin semantics): `..` stops
 * at the root, symlinks (absolute or relative) are followed inside it. With `followLast: false` the
 * last component is not followed (it is the name to create or replace). Missing components are
 * appended as they are. Only used on trees no container is running on, so no symlink can race in.
 */
export function resolveInRoot(root: string, path: string, followLast = true): string {
  const parts = resolveComponents(path, followLast, (resolved) => {
    const candidate = join(root, ...resolved);
    try {
      return lstatSync(candidate).isSymbolicLink() ? readlinkSync(candidate) : undefined;
    } catch {
      return undefined; // a missing component: the rest is appended lexically, still clamped to the root
    }
  });
  return join(root, ...parts);
}

/**
 * The securejoin walk itself, over any view of a tree: `readLink(components)` gives the target of
 * the symlink at those components, or undefined for anything else (missing included). Returns the
 * resolved components; `..` stops at the root, at most 255 links are followed.
 */
export function resolveComponents(
  path: string,
  followLast: boolean,
  readLink: (components: string[]) => string | undefined,
): string[] {
  let remaining = path.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (remaining.length > 0) {
    const part = remaining.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    if (remaining.length === 0 && !followLast) {
      resolved.push(part);
      break;
    }
    const target = readLink([...resolved, part]);
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++links > 255)
      throw new TsbuildError('SYMLINK_LOOP', `too many levels of symbolic links resolving ${path}`);
    if (target.startsWith('/')) resolved.length = 0;
    remaining = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...remaining];
  }
  return resolved;
}
