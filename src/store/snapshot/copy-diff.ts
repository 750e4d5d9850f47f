import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nameBytes, nfs, readdirNames, readlinkName } from '../../fs-names.js';
import { toByteString } from '../layer/byte-fs.js';
import { makeWhiteouts, runWithInput } from '../layer/special-files.js';

const run = promisify(execFile);

/**
 * The copy snapshotter's commit: compares the new full tree with its parent (containerd's
 * double-walking differ) and writes an overlay-style diff dir: changed and new entries copied
 * (cp -a: modes, owners, xattrs), deleted ones as char 0/0 whiteouts. Unchanged = same type, size,
 * mtime (ns), mode, uid, gid and, for symlinks, target; cp -a keeps mtimes, so copies compare equal.
 */
export async function computeCopyDiff(
  parentFs: string | undefined,
  newFs: string,
  out: string,
): Promise<void> {
  if (parentFs === undefined) {
    await run('cp', ['-a', '--reflink=auto', newFs, out]);
    return;
  }
  const copies: string[] = [];
  const dirs: string[] = [];
  const whiteouts: string[] = [];
  walkDiff(parentFs, newFs, '', copies, dirs, whiteouts);
  nfs.mkdirp(out, 0o777);
  // Parents first (walkDiff pushes a dir after its children).
  for (const d of [...dirs].reverse()) nfs.mkdirp(join(out, d), 0o777);
  // The names reach cp through xargs, NUL-separated bytes (a name that is not UTF-8 cannot be an
  // argument from here); xargs splits them into as many cp runs as ARG_MAX needs.
  if (copies.length > 0) {
    const input = Buffer.concat(copies.flatMap((c) => [nameBytes(c), Buffer.from([0])]));
    const cp = ['cp', '-a', '--parents', '--reflink=auto', '--no-dereference', '-t', out, '--'];
    await runWithInput('xargs', ['-0', ...cp], input, newFs);
  }
  await makeWhiteouts(whiteouts.map((w) => toByteString(join(out, w))));
  // Directory metadata last (creating children changed the mtimes); children before parents.
  for (const d of [...dirs, '']) copyDirMeta(join(newFs, d), join(out, d));
}

function copyDirMeta(from: string, to: string): void {
  const st = nfs.lstat(from);
  nfs.lchown(to, st.uid, st.gid);
  nfs.chmod(to, st.mode & 0o7777);
  nfs.lutimes(to, st.atime, st.mtime);
}

function walkDiff(a: string, b: string, rel: string, copies: string[], dirs: string[], wh: string[]): void {
  const left = new Set(readdirNames(join(a, rel)));
  for (const name of readdirNames(join(b, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const nb = nfs.lstat(join(b, r));
    const na = left.has(name) ? nfs.lstat(join(a, r)) : undefined;
    left.delete(name);
    if (na && nb.isDirectory() && na.isDirectory()) {
      const before = copies.length + dirs.length + wh.length;
      walkDiff(a, b, r, copies, dirs, wh);
      if (!sameMeta(na, nb) || copies.length + dirs.length + wh.length > before) dirs.push(r);
      continue;
    }
    if (na && sameMeta(na, nb) && sameContent(join(a, r), join(b, r), na, nb)) continue;
    copies.push(r);
  }
  for (const gone of left) wh.push(rel ? `${rel}/${gone}` : gone);
}

function sameMeta(a: Stats, b: Stats): boolean {
  return (
    (a.mode & 0o177777) === (b.mode & 0o177777) &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    (a.isDirectory() || (a.size === b.size && a.mtimeMs === b.mtimeMs && a.rdev === b.rdev))
  );
}

function sameContent(pa: string, pb: string, a: Stats, b: Stats): boolean {
  if (a.isSymbolicLink()) return readlinkName(pa) === readlinkName(pb);
  return a.size === b.size;
}
