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
    const candidate = join(root, ...resolved, part);
    let target: string | undefined;
    try {
      if (lstatSync(candidate).isSymbolicLink()) target = readlinkSync(candidate);
    } catch {
      // A missing component: the rest is appended lexically, still clamped to the root.
    }
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++links > 255)
      throw new TsbuildError('SYMLINK_LOOP', `too many levels of symbolic links resolving ${path}`);
    if (target.startsWith('/')) resolved.length = 0;
    remaining = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...remaining];
  }
  return join(root, ...resolved);
}
