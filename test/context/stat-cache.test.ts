import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatCache, type StatKey } from '../../src/context/stat-cache.js';

const key = (n: number): StatKey => [65024, 1475318 + n, 7935 + n, 1796058248319.0974 + n, 1796058248366.404];
const hash = (n: number) => n.toString(16).padStart(64, '0');

describe('StatCache', () => {
  it('round-trips through its file: names with TAB, LF and backslashes, fractional times exact', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-statcache-'));
    const names = ['a.txt', 'dir/b c', 'tab\there', 'new\nline', 'back\\slash', 'both\\t\t', '\\n'];
    const first = new StatCache(root, '/ctx');
    for (const [i, n] of names.entries()) first.set(n, key(i), hash(i));
    first.save();
    const second = new StatCache(root, '/ctx');
    for (const [i, n] of names.entries()) expect(second.get(n, key(i)), n).toBe(hash(i));
    // Any field changed is a miss.
    for (let f = 0; f < 5; f++) {
      const k = key(0);
      k[f] = (k[f] as number) + 0.001;
      expect(second.get('a.txt', k)).toBeUndefined();
    }
    expect(second.get('missing', key(0))).toBeUndefined();
  });

  it('keeps only what the scan saw (and what `keep` says), and rewrites nothing when nothing changed', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-statcache-'));
    const c = new StatCache(root, '/ctx');
    for (const [i, n] of ['x', 'y', 'out/z'].entries()) c.set(n, key(i), hash(i));
    c.save();
    const dir = join(root, 'meta', 'statcache');
    const file = join(dir, readdirSync(dir)[0] as string);
    const again = new StatCache(root, '/ctx');
    expect(again.get('x', key(0))).toBe(hash(0));
    again.save((p) => p.startsWith('out/'));
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.slice(1, -1).map((l) => l.split('\t')[0])).toEqual(['x', 'out/z']);
    // A save writes a new file and renames it over the old: the inode tells whether it did.
    const ino = statSync(file).ino;
    const unchanged = new StatCache(root, '/ctx');
    unchanged.get('x', key(0));
    unchanged.save((p) => p.startsWith('out/'));
    expect(statSync(file).ino).toBe(ino);
    const changed = new StatCache(root, '/ctx');
    changed.set('x', key(9), hash(9));
    changed.save((p) => p.startsWith('out/'));
    expect(statSync(file).ino).not.toBe(ino);
  });

  it('a torn or foreign file is an empty cache, not an error; the old JSON file goes on save', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-statcache-'));
    const c = new StatCache(root, '/ctx');
    c.set('a', key(0), hash(0));
    c.save();
    const dir = join(root, 'meta', 'statcache');
    const file = join(dir, readdirSync(dir)[0] as string);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, -5)); // torn: no final newline
    expect(new StatCache(root, '/ctx').get('a', key(0))).toBeUndefined();
    writeFileSync(file, `{"a":[1,2,3,4,5,"${hash(0)}"]}`);
    expect(new StatCache(root, '/ctx').get('a', key(0))).toBeUndefined();
    const legacy = file.replace(/\.tsv$/, '.json');
    writeFileSync(legacy, '{}');
    const d = new StatCache(root, '/ctx');
    d.set('a', key(0), hash(0));
    d.save();
    expect(readdirSync(dir)).toEqual([file.slice(dir.length + 1)]);
  });
});
