import { readFileSync } from 'node:fs';
import { TsbuildError } from '../../errors.js';
import type { Owner } from './copy-tree.js';
import { NeedsMount } from './merged-root.js';
import { resolveInRoot } from './secure-path.js';

/** A rootfs dir, or a function from a container path to the host path that shows it. */
export type RootFs = string | ((path: string) => string);

function readEtc(root: RootFs, file: string): string[][] {
  const path = `/etc/${file}`;
  try {
    return readFileSync(typeof root === 'string' ? resolveInRoot(root, path) : root(path), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch (e) {
    // No file: no names. A merged view that cannot say is not "no file".
    if (e instanceof NeedsMount) throw e;
    return [];
  }
}

/**
 * `--chown=user[:group]` against the destination rootfs, as BuildKit does (observed on dockerd
 * 20.10): names are looked up in its /etc/passwd and /etc/group, numbers are used as they are; without
 * a group a numeric user's gid is the uid (Docker's documented rule) but a named user gets its
 * passwd entry's primary gid; an empty user (`:group`) is uid 0.
 */
export function resolveChown(root: RootFs, spec: string): Owner {
  const [u = '', g] = spec.split(':', 2);
  let uid = 0;
  let primary = 0;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    primary = uid;
  } else if (u !== '') {
    const row = findRow(u, () => readEtc(root, 'passwd'), 'user');
    uid = Number(row[2]);
    primary = Number(row[3]);
  }
  const gid = g === undefined || g === '' ? primary : lookup(g, () => readEtc(root, 'group'), 2, 'group');
  return { uid, gid };
}

function findRow(name: string, rows: () => string[][], what: 'user' | 'group'): string[] {
  const row = rows().find((r) => r[0] === name);
  if (!row) {
    throw new TsbuildError(
      'CHOWN_UNKNOWN',
      `unable to find ${what} ${name}: no matching entries in ${what === 'user' ? 'passwd' : 'group'} file`,
    );
  }
  return row;
}

function lookup(name: string, rows: () => string[][], col: number, what: 'user' | 'group'): number {
  if (/^\d+$/.test(name)) return Number(name);
  return Number(findRow(name, rows, what)[col]);
}

/**
 * USER for WORKDIR's mkdir: BuildKit resolves it exactly as `--chown` (llb.WithUser, the same
 * readUser): a numeric user without a group gets gid = uid whatever /etc/passwd says (`USER 1001`
 * makes 1001:1001 dirs, observed on dockerd 20.10), a name gets its primary gid.
 */
export function resolveUserOwner(root: RootFs, spec: string): Owner {
  return resolveChown(root, spec);
}
