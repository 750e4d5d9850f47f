import { readFileSync } from 'node:fs';
import { errnoText, TsbuildError } from '../../errors.js';
import type { Owner } from './copy-tree.js';
import { NeedsMount } from './merged-root.js';
import { resolveInRoot } from './secure-path.js';

/** A rootfs dir, or a function from a container path to the host path that shows it. */
export type RootFs = string | ((path: string) => string);

/**
 * The rows of the rootfs's /etc/passwd or /etc/group, read to look a name up. BuildKit's readUser
 * opens the file to resolve a name, so one that is missing (or unreadable) fails the step, with
 * Go's os.Open message (`COPY --chown=app` or `USER app` + `WORKDIR` over an image without it).
 */
function readEtc(root: RootFs, file: string, name: string): string[][] {
  const path = `/etc/${file}`;
  try {
    // runc's user.ParsePasswdFilter/ParseGroupFilter: lines trimmed, blank ones skipped, no comments.
    return readFileSync(typeof root === 'string' ? resolveInRoot(root, path) : root(path), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map((l) => l.split(':'));
  } catch (e) {
    // A merged view that cannot say is not "no file".
    if (e instanceof NeedsMount) throw e;
    const why = errnoText(e);
    throw new TsbuildError(
      'UNKNOWN_OWNER',
      `unable to find ${file === 'passwd' ? 'user' : 'group'} ${name}: open ${path}: ${why}`,
      {
        hint: `the image has no readable ${path}: create it in an earlier step, or give numeric ids`,
      },
    );
  }
}

/**
 * llb.WithUser's parseUID: `root` is 0 without a lookup (so no /etc/passwd is needed for it, as the
 * chown-unknown-names golden case shows); Go's strconv.ParseInt(s, 10, 32) (a sign allowed) is an
 * id, sent as a uint32 (so -1 is 4294967295, which chown(2) takes as "unchanged"); an empty word
 * is id 0 (a UserOpt without a name marshals as ByID 0); anything else is a name.
 */
function asId(s: string): number | undefined {
  if (s === 'root' || s === '') return 0;
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -0x80000000 && n <= 0x7fffffff ? n >>> 0 : undefined;
}

/** Go's strconv.Atoi as runc's parseLine uses it: a field that is not a number reads as 0. */
function atoi(s: string | undefined): number {
  return s !== undefined && /^[+-]?\d+$/.test(s) ? Number(s) : 0;
}

/**
 * `--chown=user[:group]` against the destination rootfs, as BuildKit's file op reads it (readUser,
 * observed on dockerd 20.10): numbers are used as they are, names are looked up in its /etc/passwd
 * and /etc/group; without a group a numeric user's gid is the uid (Docker's documented rule) but a
 * named user gets its passwd entry's primary gid. A name that is not in the file is no error: an
 * unknown user is 0:0, an unknown group leaves the user's gid; an empty user is uid 0. A file that
 * is not there is an error (readEtc).
 */
export function resolveChown(root: RootFs, spec: string): Owner {
  // Go's strings.SplitN(spec, ":", 2): the group is all after the first colon.
  const colon = spec.indexOf(':');
  const u = colon < 0 ? spec : spec.slice(0, colon);
  const g = colon < 0 ? undefined : spec.slice(colon + 1);
  // An empty user is uid 0 without a lookup (dockerd 20.10 takes `--chown=:1` with no /etc/passwd).
  let uid = asId(u);
  let gid = uid ?? 0;
  if (uid === undefined) {
    const row = readEtc(root, 'passwd', u).find((r) => r[0] === u);
    uid = atoi(row?.[2]);
    gid = atoi(row?.[3]);
  }
  if (g !== undefined) {
    const id = asId(g);
    const row = id === undefined ? readEtc(root, 'group', g).find((r) => r[0] === g) : undefined;
    if (id !== undefined) gid = id;
    else if (row) gid = atoi(row[2]);
  }
  return { uid, gid };
}

/**
 * USER for WORKDIR's mkdir: BuildKit resolves it exactly as `--chown` (llb.WithUser, the same
 * readUser): a numeric user without a group gets gid = uid whatever /etc/passwd says (`USER 1001`
 * makes 1001:1001 dirs, observed on dockerd 20.10), a name gets its primary gid.
 */
export function resolveUserOwner(root: RootFs, spec: string): Owner {
  return resolveChown(root, spec);
}
