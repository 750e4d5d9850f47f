import { execFile } from 'node:child_process';
import {
  chmodSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toByteString } from '../layer/byte-fs.js';
import { makeWhiteouts } from '../layer/special-files.js';

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
  mkdirSync(out, { recursive: true });
  // Parents first (walkDiff pushes a dir after its children).
  for (const d of [...dirs].reverse()) mkdirSync(join(out, d), { recursive: true });
  for (let i = 0; i < copies.length; i += 500) {
    await run(
      'cp',
      ['-a', '--parents', '--reflink=auto', '--no-dereference', '-t', out, '--', ...copies.slice(i, i + 500)],
      {
        cwd: newFs,
        maxBuffer: 1 << 24,
      },
    );
  }
  await makeWhiteouts(whiteouts.map((w) => toByteString(join(out, w))));
  // Directory metadata last (creating children changed the mtimes); children before parents.
  for (const d of [...dirs, '']) copyDirMeta(join(newFs, d), join(out, d));
}

function copyDirMeta(from: string, to: string): void {
  const st = lstatSync(from);
  lchownSync(to, st.uid, st.gid);
  chmodSync(to, st.mode & 0o7777);
  lutimesSync(to, st.atime, st.mtime);
}

function walkDiff(a: string, b: string, rel: string, copies: string[], dirs: string[], wh: string[]): void {
  const left = new Set(readdirSync(join(a, rel)));
  for (const name of readdirSync(join(b, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const nb = lstatSync(join(b, r));
    const na = left.has(name) ? lstatSync(join(a, r)) : undefined;
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
  if (a.isSymbolicLink()) return readlinkSync(pa) === readlinkSync(pb);
  return a.size === b.size;
}
