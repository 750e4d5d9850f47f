import { join } from 'node:path';
import { nfs, readlinkName } from '../../fs-names.js';
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
      return nfs.lstat(candidate).isSymbolicLink() ? readlinkName(candidate) : undefined;
    } catch {
      return undefined; // a missing component: the rest is appended lexically, still clamped to the root
    }
  });
  return join(root, ...parts);
}
