import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * Mount stubs a runtime leaves in an upper dir: empty /etc/hosts, /etc/resolv.conf, /etc/hostname
 * and empty /proc, /sys, /dev, when the path does not exist in any lower. /etc goes too when it
 * was created only to hold such stubs.
 */
export function runtimeStubs(root: string, lowers: string[]): Set<string> {
  const skip = new Set<string>();
  const below = (rel: string) => lowers.some((l) => lstatOrUndefined(join(l, rel)) !== undefined);
  for (const f of ['etc/hosts', 'etc/resolv.conf', 'etc/hostname']) {
    const s = lstatOrUndefined(join(root, f));
    if (s?.isFile() && s.size === 0 && !below(f)) skip.add(f);
  }
  for (const d of ['proc', 'sys', 'dev']) {
    const s = lstatOrUndefined(join(root, d));
    if (s?.isDirectory() && readdirSync(join(root, d)).length === 0 && !below(d)) skip.add(d);
  }
  const etc = lstatOrUndefined(join(root, 'etc'));
  if (
    etc?.isDirectory() &&
    !below('etc') &&
    readdirSync(join(root, 'etc')).every((n) => skip.has(`etc/${n}`))
  ) {
    if (readdirSync(join(root, 'etc')).length > 0) skip.add('etc');
  }
  return skip;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
