import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ContextWatcher } from '../../src/watch/context-watcher.js';
import { TreeWatcher } from '../../src/watch/tree-watcher.js';

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function tree(dir: string, ignored: (p: string, isDir: boolean) => boolean = () => false) {
  const seen = new Set<string>();
  const t = new TreeWatcher({
    ignored,
    onChange: (p) => seen.add(p.slice(dir.length + 1)),
    onError: () => {},
  });
  t.addTree(dir);
  closers.push(() => t.close());
  return { t, seen };
}

describe('TreeWatcher', () => {
  it('sees edits, new files, removals and renames at any depth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsb-tw-'));
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(join(dir, 'a', 'b', 'f'), '1');
    writeFileSync(join(dir, 'top'), '1');
    const { t, seen } = tree(dir);
    expect(t.count).toBe(4);
    expect(t.size).toBe(3);
    writeFileSync(join(dir, 'a', 'b', 'f'), '2');
    writeFileSync(join(dir, 'a', 'new'), 'x');
    rmSync(join(dir, 'top'));
    renameSync(join(dir, 'a', 'new'), join(dir, 'a', 'renamed'));
    await settle();
    expect([...seen].sort()).toEqual(['a/b/f', 'a/new', 'a/renamed', 'top']);
  });

  it('watches a directory whose name is not UTF-8 and reports its files by their escaped names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsb-tw-'));
    const bad = Buffer.from(`${dir}/d\xff`, 'latin1');
    mkdirSync(bad);
    writeFileSync(Buffer.concat([bad, Buffer.from('/f')]), '1');
    const { t, seen } = tree(dir);
    expect(t.size).toBe(2);
    writeFileSync(Buffer.concat([bad, Buffer.from('/f')]), '2');
    writeFileSync(Buffer.concat([bad, Buffer.from('/n\xfe', 'latin1')]), '1');
    await settle();
    expect([...seen].sort()).toEqual(['d\uDCFF/f', 'd\uDCFF/n\uDCFE']);
  });

  it('walks and watches directories that appear, including files written before the watch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsb-tw-'));
    const { t, seen } = tree(dir);
    mkdirSync(join(dir, 'x', 'y', 'z'), { recursive: true });
    writeFileSync(join(dir, 'x', 'y', 'z', 'early'), '1');
    await settle();
    expect(seen.has('x/y/z/early')).toBe(true);
    expect(t.size).toBe(4);
    seen.clear();
    writeFileSync(join(dir, 'x', 'y', 'z', 'later'), '1');
    await settle();
    expect([...seen]).toEqual(['x/y/z/later']);
  });

  it('drops the watches of a removed directory and renews those of a replaced one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsb-tw-'));
    mkdirSync(join(dir, 'd', 'sub'), { recursive: true });
    const { t, seen } = tree(dir);
    expect(t.size).toBe(3);
    rmSync(join(dir, 'd'), { recursive: true });
    await settle();
    expect(seen.has('d')).toBe(true);
    expect(t.size).toBe(1);
    mkdirSync(join(dir, 'd'));
    await settle();
    seen.clear();
    writeFileSync(join(dir, 'd', 'f'), '1');
    await settle();
    expect([...seen]).toEqual(['d/f']);
  });

  it('does not descend into ignored directories nor follow symlinks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsb-tw-'));
    const outside = mkdtempSync(join(tmpdir(), 'tsb-tw-out-'));
    mkdirSync(join(dir, 'node_modules', 'p'), { recursive: true });
    symlinkSync(outside, join(dir, 'link'));
    const { t, seen } = tree(dir, (p) => p.endsWith('/node_modules'));
    expect(t.size).toBe(1);
    writeFileSync(join(dir, 'node_modules', 'p', 'i.js'), '1');
    writeFileSync(join(outside, 'f'), '1');
    await settle();
    expect([...seen]).toEqual([]);
  });
});

describe('ContextWatcher', () => {
  it('honours .dockerignore, watches a Dockerfile outside the context, and re-reads the ignore file', async () => {
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-cw-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'tsb-cw-df-'));
    mkdirSync(join(ctx, 'logs'));
    mkdirSync(join(ctx, 'src'));
    writeFileSync(join(ctx, '.dockerignore'), 'logs\n');
    writeFileSync(join(elsewhere, 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(elsewhere, 'unrelated'), '');
    const seen: string[] = [];
    const w = new ContextWatcher({
      context: ctx,
      dockerfile: join(elsewhere, 'Dockerfile'),
      outputs: [join(ctx, 'out')],
      onChange: (p) => seen.push(...p),
      onError: (e) => {
        throw e;
      },
    });
    closers.push(() => w.close());
    await w.start();
    writeFileSync(join(ctx, 'logs', 'a.log'), 'x');
    mkdirSync(join(ctx, 'out'));
    writeFileSync(join(ctx, 'out', 'f'), 'x');
    writeFileSync(join(elsewhere, 'unrelated'), 'x');
    writeFileSync(join(ctx, 'src', 'main.js'), 'x');
    writeFileSync(join(elsewhere, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
    await settle();
    expect([...new Set(seen)].sort()).toEqual([`../${elsewhere.split('/').pop()}/Dockerfile`, 'src/main.js']);
    seen.length = 0;
    writeFileSync(join(ctx, '.dockerignore'), '# nothing ignored now\n');
    // Written at once, while the watch is being re-made with the new patterns: must not be missed.
    writeFileSync(join(ctx, 'logs', 'b.log'), 'x');
    // Wait for delivery under load (the write itself is never repeated).
    for (let i = 0; i < 60 && !seen.includes('logs/b.log'); i++) await settle(50);
    expect(seen).toContain('.dockerignore');
    expect(seen).toContain('logs/b.log');
  });

  it('always sees the Dockerfile and ignore files, even when .dockerignore excludes everything', async () => {
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-cw-'));
    mkdirSync(join(ctx, 'docker'));
    writeFileSync(join(ctx, '.dockerignore'), '*\n');
    writeFileSync(join(ctx, 'docker', 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(ctx, 'docker', 'Dockerfile.dockerignore'), 'docker\n');
    writeFileSync(join(ctx, 'app.js'), '');
    const seen: string[] = [];
    const w = new ContextWatcher({
      context: ctx,
      dockerfile: join(ctx, 'docker', 'Dockerfile'),
      outputs: [],
      onChange: (p) => seen.push(...p),
      onError: (e) => {
        throw e;
      },
    });
    closers.push(() => w.close());
    await w.start();
    writeFileSync(join(ctx, 'docker', 'other'), 'x');
    writeFileSync(join(ctx, 'docker', 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
    await settle();
    writeFileSync(join(ctx, 'docker', 'Dockerfile.dockerignore'), 'nothing\n');
    await settle(300);
    writeFileSync(join(ctx, 'app.js'), 'x');
    await settle();
    expect([...new Set(seen)].sort()).toEqual([
      'app.js',
      'docker/Dockerfile',
      'docker/Dockerfile.dockerignore',
    ]);
  });
});
