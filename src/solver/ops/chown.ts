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
 * `--chown=user[:group]` against the destination rootfs, as BuildKit does: names are looked up in its
 * /etc/passwd and /etc/group, numbers are used as they are, and without a group the gid is the uid
 * (Docker's documented rule, not the user's primary group).
 */
export function resolveChown(root: RootFs, spec: string): Owner {
  const [u = '', g] = spec.split(':', 2);
  const uid = lookup(u, () => readEtc(root, 'passwd'), 2, 'user');
  const gid = g === undefined || g === '' ? uid : lookup(g, () => readEtc(root, 'group'), 2, 'group');
  return { uid, gid };
}

function lookup(name: string, rows: () => string[][], col: number, what: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const row = rows().find((r) => r[0] === name);
  if (!row) {
    throw new TsbuildError(
      'CHOWN_UNKNOWN',
      `unable to find ${what} ${name}: no matching entries in ${what === 'user' ? 'passwd' : 'group'} file`,
    );
  }
  return Number(row[col]);
}

/** USER for WORKDIR's mkdir: `user[:group]`, the user's primary group when no group is given. */
export function resolveUserOwner(root: RootFs, spec: string): Owner {
  const [u = '', g] = spec.split(':', 2);
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const row = readEtc(root, 'passwd').find((r) => r[2] === u);
    gid = row ? Number(row[3]) : 0;
  } else {
    const row = readEtc(root, 'passwd').find((r) => r[0] === u);
    if (!row)
      throw new TsbuildError('USER_UNKNOWN', `unable to find user ${u}: no matching entries in passwd file`);
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (g !== undefined && g !== '') gid = lookup(g, () => readEtc(root, 'group'), 2, 'group');
  return { uid, gid };
}
