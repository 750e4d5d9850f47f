import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { resolveComponents } from '../../resolve-components.js';

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
