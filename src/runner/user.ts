import { RunnerError } from './errors.js';
import { dirView, type RootView } from './root-view.js';
import type { ResolvedUser } from './types.js';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const isId = (s: string): boolean => /^[0-9]+$/.test(s);

/** Parses /etc/passwd text; malformed lines are skipped as libc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#') || !isId(f[2]!) || !isId(f[3]!)) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#') || !isId(f[2]!)) continue;
    out.push({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

/**
 * Resolves a USER string (`name`, `uid`, `name:group`, `uid:gid`, …) against the rootfs, as
 * Docker/runc's `user.GetExecUser` does: a numeric uid with no passwd entry passes through with gid 0
 * (or the given group); a name that is not in /etc/passwd is an error. Supplementary groups as
 * Docker 20.10 and its BuildKit set them (checked against the peer): without an explicit group, the
 * groups that list the user by name as a member; none with an explicit group, for no USER, or for a
 * uid without a passwd entry. (containerd's fix for CVE-2023-25173 adds the primary group too; the
 * reference builder here does not, and `id` in a RUN would show the difference.)
 */
export function resolveUserFromFiles(user: string, passwdText: string, groupText: string): ResolvedUser {
  // No USER is uid 0 (BuildKit's GetUser defaults to "0"): it needs no /etc/passwd (FROM scratch),
  // and when there is one, uid 0's entry still gives the home and supplementary groups.
  const spec = user === '' ? '0' : user;
  const colon = spec.indexOf(':');
  const userPart = colon === -1 ? spec : spec.slice(0, colon);
  const groupPart = colon === -1 ? undefined : spec.slice(colon + 1);
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);

  const entry = isId(userPart)
    ? passwd.find((p) => p.uid === Number(userPart))
    : passwd.find((p) => p.name === userPart);
  if (!entry && !isId(userPart)) {
    throw new RunnerError(
      'RUNNER_UNKNOWN_USER',
      `unable to find user ${userPart}: no matching entries in passwd file`,
      {
        hint: 'create the user in an earlier RUN (adduser) or use a numeric uid',
      },
    );
  }
  const uid = entry ? entry.uid : Number(userPart);
  let gid = entry ? entry.gid : 0;
  const home = entry ? entry.home : '/';
  const name = entry?.name;

  if (groupPart !== undefined && groupPart !== '') {
    if (isId(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) {
        throw new RunnerError(
          'RUNNER_UNKNOWN_GROUP',
          `unable to find group ${groupPart}: no matching entries in group file`,
        );
      }
      gid = g.gid;
    }
    // An explicit group replaces the supplementary groups, as in Docker.
    return { uid, gid, additionalGids: [], home };
  }
  // No USER is BuildKit's default "0" without a lookup of memberships.
  const member = user === '' ? undefined : name;
  const additionalGids = member
    ? [...new Set(groups.filter((g) => g.members.includes(member)).map((g) => g.gid))]
    : [];
  return { uid, gid, additionalGids, home };
}

/**
 * `resolveUserFromFiles` reading the rootfs' /etc/passwd and /etc/group (inside the root). `root` is
 * a rootfs dir or a RootView (e.g. the layers of a snapshot that is not mounted).
 */
export function resolveUser(root: string | RootView, user: string | undefined): ResolvedUser {
  const view = typeof root === 'string' ? dirView(root) : root;
  return resolveUserFromFiles(
    user ?? '',
    view.readFile('/etc/passwd') ?? '',
    view.readFile('/etc/group') ?? '',
  );
}
