import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checksumSelection,
  parseDockerignore,
  readDockerignore,
  scanContext,
  selectSources,
} from '../../src/context/index.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-ctx-'));
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    if (c.startsWith('->')) symlinkSync(c.slice(2), join(dir, p));
    else writeFileSync(join(dir, p), c);
  }
  return dir;
}

describe('.dockerignore files', () => {
  it('parses like moby ignorefile.ReadAll', () => {
    expect(parseDockerignore('\uFEFF# comment\n  /a/b/ \n!/c\n\n ./d/../e\n #notcomment\n')).toEqual([
      'a/b',
      '!c',
      'e',
      '#notcomment',
    ]);
  });
  it('<Dockerfile>.dockerignore wins over .dockerignore', async () => {
    const dir = tree({
      '.dockerignore': 'a\n',
      'sub/app.Dockerfile': 'FROM scratch',
      'sub/app.Dockerfile.dockerignore': 'b\n',
    });
    expect(await readDockerignore(dir, join(dir, 'sub/app.Dockerfile'))).toEqual(['b']);
    expect(await readDockerignore(dir, join(dir, 'Dockerfile'))).toEqual(['a']);
    expect(await readDockerignore(tree({}), undefined)).toEqual([]);
  });
});

describe('scanContext', () => {
  it('a state root inside the context is not part of it', async () => {
    const dir = tree({ 'a.txt': 'a', 'state/meta/x': 'x', 'sub/state/y': 'y' });
    const snap = await scanContext({ dir, excludes: [], root: join(dir, 'state') });
    expect(snap.paths).toEqual(['a.txt', 'sub', 'sub/state', 'sub/state/y']);
  });

  it('applies excludes as fsutil does, with ! re-includes under excluded dirs', async () => {
    const dir = tree({
      'a.txt': 'a',
      'node_modules/x/index.js': 'x',
      'docs/README.md': 'r',
      'docs/other.md': 'o',
      'src/main.go': 'm',
      'src/main_test.go': 't',
      link: '->a.txt',
    });
    const snap = await scanContext({
      dir,
      excludes: ['node_modules', 'docs', '!docs/README.md', '**/*_test.go'],
    });
    expect(snap.paths).toEqual(['a.txt', 'docs', 'docs/README.md', 'link', 'src', 'src/main.go']);
    expect(snap.entries.get('link')?.target).toBe('a.txt');
    expect(snap.entries.get('a.txt')?.hash).toBe(createHash('sha256').update('a').digest('hex'));
  });

  it('descends into an excluded dir only for a ! pattern that names a path under it (fsutil)', async () => {
    const dir = tree({ 'x/y/deep.md': 'd', 'dir/b.txt': 'b', 'dir/a.log': 'l', keep: 'k', other: 'o' });
    const snap = await scanContext({ dir, excludes: ['*', '!keep', '!dir/', 'dir/*.log', '!**/deep.md'] });
    expect(snap.paths).toEqual(['dir', 'dir/b.txt', 'keep']);
    const named = await scanContext({ dir, excludes: ['*', '!x/y/deep.md'] });
    expect(named.paths).toEqual(['x', 'x/y', 'x/y/deep.md']);
  });

  it('a file name that is not UTF-8 is scanned and hashed by its escaped name (fs-names.ts)', async () => {
    const dir = tree({ 'ok é': 'x', 'new\nline': 'y' });
    // Node's string paths cannot name these bytes: make the file through a Buffer path.
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/bad`), Buffer.from([0xff]), Buffer.from('name')]), 'z');
    const snap = await scanContext({ dir, excludes: [] });
    expect(snap.paths).toEqual(['bad\uDCFFname', 'new\nline', 'ok é']);
    // sha256 of "z"
    expect(snap.entries.get('bad\uDCFFname')?.hash).toBe(
      '594e519ae499312b29433b7dd8a97ff068defcba9755b6d5d00e84c524d67b06',
    );
    const ignored = await scanContext({ dir, excludes: ['bad?name'] });
    expect(ignored.paths).toEqual(['new\nline', 'ok é']);
    // a .dockerignore naming that byte itself (Go compares the bytes)
    writeFileSync(join(dir, '.dockerignore'), Buffer.from('bad\xffname\n', 'latin1'));
    const excludes = await readDockerignore(dir);
    expect(excludes).toEqual(['bad\uDCFFname']);
    expect((await scanContext({ dir, excludes })).paths).toEqual(['.dockerignore', 'new\nline', 'ok é']);
  });

  it('a plain source with a backslash is not found, as BuildKit never sends it; a wildcard finds it', async () => {
    const dir = tree({ 'back\\slash': 'b', other: 'o' });
    const snap = await scanContext({ dir, excludes: [] });
    expect(() => selectSources(snap, ['back\\slash'])).toThrow(/"\/back\\slash": not found/);
    expect(selectSources(snap, ['back?slash']).map((s) => s.path)).toEqual(['back\\slash']);
  });

  it('a symlink source is followed for content but keeps its own name', async () => {
    const dir = tree({ 'sub/a': 'a', 'sub/l': '->a', top: '->sub/a' });
    const snap = await scanContext({ dir, excludes: [] });
    expect(selectSources(snap, ['sub/*']).map((s) => [s.name, s.path])).toEqual([
      ['a', 'sub/a'],
      ['l', 'sub/a'],
    ]);
    expect(selectSources(snap, ['top']).map((s) => [s.name, s.path])).toEqual([['top', 'sub/a']]);
  });

  it('symlinks among the directories of a source are followed inside the context', async () => {
    const dir = tree({ 'dir/file': 'f', 'dir/t.txt': 't', ldir: '->dir', abs: '->/dir', up: '->../../dir' });
    const snap = await scanContext({ dir, excludes: [] });
    const sel = (src: string) => selectSources(snap, [src]).map((s) => [s.name, s.path]);
    expect(sel('ldir/file')).toEqual([['file', 'dir/file']]);
    expect(sel('abs/file')).toEqual([['file', 'dir/file']]);
    expect(sel('up/file')).toEqual([['file', 'dir/file']]); // `..` stops at the context root
    expect(sel('ldir/*.txt')).toEqual([['t.txt', 'dir/t.txt']]);
    expect(() => sel('ldir/missing')).toThrow(/not found/);
  });

  it('re-hashes on a same-mtime content change, not on a touch', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-root-'));
    const dir = tree({ 'f.txt': 'one', 'g.txt': 'two' });
    const key = async () => {
      const snap = await scanContext({ dir, excludes: [], root });
      return checksumSelection(selectSources(snap, ['f.txt']));
    };
    const k1 = await key();
    utimesSync(join(dir, 'f.txt'), new Date(), new Date(Date.now() + 5000));
    expect(await key()).toBe(k1);
    const t = new Date('2020-01-01T00:00:00Z');
    utimesSync(join(dir, 'f.txt'), t, t);
    const k2 = await key();
    expect(k2).toBe(k1);
    writeFileSync(join(dir, 'f.txt'), 'ONE');
    utimesSync(join(dir, 'f.txt'), t, t);
    expect(await key()).not.toBe(k1);
  });

  it('selects wildcard sources and directory contents; the matched set is in the key', async () => {
    const dir = tree({ 'a.js': '1', 'b.js': '2', 'c.txt': '3', 'd/e.js': '4', 'd/f/g': '5' });
    const snap = await scanContext({ dir, excludes: [] });
    const sel = selectSources(snap, ['*.js']);
    expect(sel.map((s) => s.path)).toEqual(['a.js', 'b.js']);
    expect(selectSources(snap, ['d']).flatMap((s) => s.entries.map((e) => e.path))).toEqual([
      'd',
      'd/e.js',
      'd/f',
      'd/f/g',
    ]);
    expect(
      selectSources(snap, ['d'], { excludes: ['f'] }).flatMap((s) => s.entries.map((e) => e.path)),
    ).toEqual(['d', 'd/e.js']);
    expect(() => selectSources(snap, ['nope'])).toThrow(/not found/);
    // a wildcard may match nothing (BuildKit's AllowEmptyWildcard): nothing is copied
    expect(selectSources(snap, ['*.nope'])).toEqual([]);
    const k1 = checksumSelection(sel);
    writeFileSync(join(dir, 'z.js'), '9');
    const snap2 = await scanContext({ dir, excludes: [] });
    expect(checksumSelection(selectSources(snap2, ['*.js']))).not.toBe(k1);
    expect(checksumSelection(selectSources(snap2, ['c.txt']))).toBe(
      checksumSelection(selectSources(snap, ['c.txt'])),
    );
  });

  it('walks only the included subtrees (FollowPaths) and keeps the stat cache of the rest', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-root-'));
    const dir = tree({ 'a/x.txt': 'x', 'a/sub/y.txt': 'y', 'b/z.txt': 'z', 'top.txt': 't', 'ab.txt': 'no' });
    const full = await scanContext({ dir, excludes: [], root });
    const part = await scanContext({ dir, excludes: ['**/y.txt'], root, include: ['a', 'top.txt'] });
    expect(part.paths).toEqual(['a', 'a/sub', 'a/x.txt', 'top.txt']);
    expect(checksumSelection(selectSources(part, ['a']))).not.toBe(
      checksumSelection(selectSources(full, ['a'])),
    );
    const { readdirSync, readFileSync } = await import('node:fs');
    const cacheDir = join(root, 'meta', 'statcache');
    const saved = readFileSync(join(cacheDir, readdirSync(cacheDir)[0] as string), 'utf8');
    const paths = saved
      .split('\n')
      .slice(1, -1)
      .map((l) => l.split('\t')[0]);
    // Outside the scope: kept; inside but ignored now (a/sub/y.txt): dropped.
    expect(paths.sort()).toEqual(['a/x.txt', 'ab.txt', 'b/z.txt', 'top.txt']);
  });

  it('reports every path it stat-ed (the no-op check re-stats them): the root, walked dirs, in-scope entries', async () => {
    const dir = tree({ 'a/x.txt': 'x', 'a/sub/y.txt': 'y', 'b/z.txt': 'z', 'top.txt': 't' });
    const part = await scanContext({ dir, excludes: ['**/y.txt'], include: ['a', 'top.txt'] });
    const seen = part.observed.map((o) => o[0]).sort();
    // b is neither in scope nor on the way: not stat-ed; an excluded file is (its change is harmless)
    expect(seen).toEqual(['', 'a', 'a/sub', 'a/sub/y.txt', 'a/x.txt', 'top.txt']);
    const { lstatSync } = await import('node:fs');
    const st = lstatSync(join(dir, 'a/x.txt'));
    expect(part.observed.find((o) => o[0] === 'a/x.txt')).toEqual([
      'a/x.txt',
      st.ino,
      st.size,
      st.mtimeMs,
      st.ctimeMs,
      st.mode,
    ]);
  });

  it('hashes many files in a worker with the same results', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`f/${i}.txt`] = `content ${i}`;
    const dir = tree(files);
    const snap = await scanContext({ dir, excludes: [] });
    expect(snap.entries.get('f/7.txt')?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(snap.entries.get('f/7.txt')?.hash).toBe(createHash('sha256').update('content 7').digest('hex'));
  });
});
