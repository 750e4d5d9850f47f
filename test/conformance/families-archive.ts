// Generator of randomized ADD-archive builds (differential.ts `archive`): tarballs made by Python's
// tarfile with entries no tool would write in that order (a child before its directory, one path
// twice with different types, links to what comes later, `./` prefixes, owners, odd modes, a
// `.wh.` name), unpacked over a tree a RUN made, to compare moby's unpack semantics with ours.
import type { ConformanceCase } from './kit.js';
import type { R } from './rng.js';

const BB = 'FROM localhost:5000/busybox:latest AS bb\n';

/** One tar entry: name, type (file, dir, symlink, hard link), link target, mode, owner (uid = gid). */
export type TarEntry = [
  name: string,
  type: 'f' | 'd' | 's' | 'h' | 'p',
  target: string,
  mode: number,
  uid: number,
  caps?: boolean,
];
type Entry = TarEntry;

/**
 * Python: `add(t, entry)` writes one TarEntry into the tarfile `t` (a file holds its own name; a
 * `.wh.` name is empty, as a whiteout is; `caps`: a security.capability and a user.* xattr), all
 * dated 2020-09-13.
 */
export const PY_ADD = `def add(t, name, kind, target, mode, uid, caps=False):
    i = tarfile.TarInfo(name.rstrip('/') if kind != 'd' else name)
    i.mode, i.uid, i.gid, i.mtime = mode, uid, uid, 1600000000
    if caps: i.pax_headers = {'SCHILY.xattr.security.capability': bytes.fromhex('0100000200200000000000000000000000000000').decode('latin1'), 'SCHILY.xattr.user.n': 'v'}
    data = b''
    if kind == 'd': i.type = tarfile.DIRTYPE
    elif kind == 's': i.type, i.linkname = tarfile.SYMTYPE, target
    elif kind == 'h': i.type, i.linkname = tarfile.LNKTYPE, target
    elif kind == 'p': i.type = tarfile.FIFOTYPE
    elif not name.rstrip('/').split('/')[-1].startswith('.wh.'): data = (name + '\\n').encode()
    i.size = len(data)
    t.addfile(i, io.BytesIO(data) if data else None)
`;

const NAMES = ['a', 'd', 'd/f', 'd/sub/g', 'x', 'l', 'h', 'e/', '.wh.a', 'd/.wh..wh..opq', 'sub'];

function entry(r: R): Entry {
  const name = `${r.next() < 0.2 ? './' : ''}${r.pick(NAMES)}`;
  const type = r.pick(['f', 'f', 'd', 's', 'h'] as const);
  const target =
    type === 's'
      ? r.pick(['d', 'a', '/etc', '../../x', 'nowhere', 'd/f'])
      : type === 'h'
        ? r.pick(['a', 'd/f', 'x'])
        : '';
  const mode = r.pick([0o644, 0o755, 0o600, 0o700, 0o4755, 0o1777, 0o444]);
  return [name, type, target, mode, r.pick([0, 0, 1000, 7]), type === 'f' && r.next() < 0.3];
}

/** A Python script that writes t.tar (or t.tar.gz) from the entries, in the order given. */
function tarScript(entries: Entry[], gz: boolean): string {
  return `python3 - <<'EOF'
import tarfile, io, json
${PY_ADD}t = tarfile.open(${gz ? "'t.tar.gz', 'w:gz'" : "'t.tar', 'w'"}, format=tarfile.PAX_FORMAT)
for e in json.loads('${JSON.stringify(entries)}'):
    add(t, *e)
t.close()
EOF`;
}

export function archiveCase(r: R): Partial<ConformanceCase> {
  const entries = Array.from({ length: r.int(2, 7) }, () => entry(r));
  // A hard link must name an entry written before it, or the archive is invalid for both.
  const valid = entries.filter(
    (e, i) =>
      e[1] !== 'h' || entries.slice(0, i).some((p) => p[1] === 'f' && p[0].replace(/^\.\//, '') === e[2]),
  );
  const gz = r.next() < 0.3;
  const lines = ['FROM bb'];
  const pre = r.pick([
    '',
    'RUN mkdir -p /t/d/sub && echo old > /t/a && echo old > /t/d/f',
    'RUN mkdir -p /t && ln -s /etc /t/d && mkdir /t/a',
    'RUN mkdir -p /t/x/y && echo keep > /t/x/y/z && ln -s d /t/l && chmod 700 /t/x',
    'RUN mkdir -p /t && echo f > /t/sub',
  ]);
  if (pre) lines.push(pre);
  // No --chown: tsbuild gives the entries its owner as BuildKit >= 0.23 does, 0.8 does not (README).
  const flags = r.pick(['', '', '--chmod=600 ']);
  const dest = r.pick(['/t/', '/t', '/t/x/', '/', '/t/new/deep/', '/t/a']);
  lines.push(`ADD ${flags}${gz ? 't.tar.gz' : 't.tar'} ${dest}`);
  if (r.next() < 0.3) lines.push(`ADD ${gz ? 't.tar.gz' : 't.tar'} /t/second/`);
  return {
    dockerfile: `${BB}${lines.join('\n')}\n`,
    files: { keep: 'k' },
    prepare: tarScript(valid, gz),
  };
}
