import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyInto } from '../../src/solver/ops/copy-tree.js';
import { fastCopyFromDir } from '../../src/solver/ops/fast-copy.js';
import { requireRoot } from '../helpers/require.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsb-fcf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** type, mode, owner, mtime, link target or content of every entry below `dir`. */
function tree(dir: string, times: Map<string, number>, rel = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    const p = join(dir, r);
    const s = lstatSync(p);
    const what = s.isSymbolicLink() ? `-> ${readlinkSync(p)}` : s.isFile() ? readFileSync(p, 'utf8') : 'dir';
    out.push(
      `${r} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${what} nlink=${s.isFile() ? s.nlink : ''}`,
    );
    if (!s.isSymbolicLink()) times.set(r, s.mtimeMs);
    if (s.isDirectory()) out.push(...tree(dir, times, r));
  }
  return out;
}

function makeSource(dir: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const d = join(dir, `p${i % 50}`, `q${i}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'index.js'), `module.exports = ${i}\n`);
    if (i % 7 === 0) chownSync(join(d, 'index.js'), 1000 + (i % 3), 2000);
    if (i % 11 === 0) chmodSync(join(d, 'index.js'), 0o4755);
    if (i % 13 === 0) symlinkSync(`../q${i}/index.js`, join(d, 'link'));
    if (i % 17 === 0) lchownSync(d, 33, 33);
  }
  writeFileSync(join(dir, 'hard-a'), 'same inode');
  execFileSync('ln', [join(dir, 'hard-a'), join(dir, 'hard-b')]);
  const t = new Date('2020-01-02T03:04:05Z');
  for (const p of ['p1', 'p2/q2', 'hard-a']) utimesSync(join(dir, p), t, t);
}

describe('COPY --from fast path (cp)', () => {
  it('makes the same tree as the per-entry copy', async () => {
    requireRoot();
    const src = join(tmp, 'src');
    makeSource(src, 700);
    utimesSync(join(src, 'p3'), new Date('2021-01-01Z'), new Date('2021-01-01Z'));
    for (const r of ['a', 'b']) mkdirSync(join(tmp, r, 'app'), { recursive: true });
    const opts = { sources: 1, excludes: 0, owner: false, chmod: false };
    expect(await fastCopyFromDir(src, join(tmp, 'a'), '/app/node_modules', opts)).toBe(true);
    await copyInto(src, undefined, join(tmp, 'b'), '/app/node_modules', false, { preserveOwner: true });
    const ta = new Map<string, number>();
    const tb = new Map<string, number>();
    const a = tree(join(tmp, 'a'), ta);
    const b = tree(join(tmp, 'b'), tb);
    // Node's utimes (the per-entry path) keeps whole ms, cp keeps ns; layer tars keep seconds.
    for (const [k, t] of tb)
      if (k !== 'app/node_modules' && k !== 'app') expect(Math.abs((ta.get(k) ?? 0) - t), k).toBeLessThan(2);
    expect(a.length).toBeGreaterThan(1400);
    // The destination dir itself is dated "now" on both paths (a few ms apart): compare the rest.
    expect(a.slice(2)).toEqual(b.slice(2));
    expect(a[1]?.split(' ').slice(1, 3)).toEqual(['755', '0:0']);
    expect(b[1]?.split(' ').slice(1, 3)).toEqual(['755', '0:0']);
  });

  it('is not taken for special files, an existing destination, --chown, or small trees', async () => {
    requireRoot();
    const src = join(tmp, 'src2');
    makeSource(src, 600);
    const opts = { sources: 1, excludes: 0, owner: false, chmod: false };
    mkdirSync(join(tmp, 'c', 'x'), { recursive: true });
    expect(await fastCopyFromDir(src, join(tmp, 'c'), '/x', opts)).toBe(false);
    expect(await fastCopyFromDir(src, join(tmp, 'c'), '/y', { ...opts, owner: true })).toBe(false);
    expect(await fastCopyFromDir(join(src, 'p1'), join(tmp, 'c'), '/z', opts)).toBe(false);
    execFileSync('mkfifo', [join(src, 'p0', 'fifo')]);
    expect(await fastCopyFromDir(src, join(tmp, 'c'), '/w', opts)).toBe(false);
    expect(readdirSync(join(tmp, 'c')).sort()).toEqual(['x']);
  });
});
