import { TsbuildError } from './errors.js';

/**
 * The securejoin walk, over any view of a tree (a rootfs, a merged layer view, a scanned context):
 * `readLink(components)` gives the target of the symlink at those components, or undefined for
 * anything else (missing included). Returns the resolved components; `..` stops at the root, at
 * most 255 links are followed.
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
