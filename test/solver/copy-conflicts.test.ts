import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyInto } from '../../src/solver/ops/copy-tree.js';

/** A source tree and a destination root, each from a map of path → content ('/' = dir, '->' = link). */
function trees(src: Record<string, string>, dst: Record<string, string>) {
  const base = mkdtempSync(join(tmpdir(), 'tsb-conflict-'));
  const make = (root: string, files: Record<string, string>) => {
    mkdirSync(root, { recursive: true });
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      if (c === '/') mkdirSync(join(root, p), { recursive: true });
      else if (c.startsWith('->')) symlinkSync(c.slice(2), join(root, p));
      else writeFileSync(join(root, p), c);
    }
  };
  make(join(base, 'src'), src);
  make(join(base, 'root'), dst);
  return { src: join(base, 'src'), root: join(base, 'root') };
}

// BuildKit's copy (fsutil) never turns a directory into a non-directory or back: checked against
// dockerd 20.10's BuildKit, whose messages these are.
describe('COPY onto an entry of another kind', () => {
  const copy = (t: ReturnType<typeof trees>) =>
    copyInto(t.src, undefined, t.root, '/app/', false, { preserveOwner: false });

  it('a directory onto a file fails', async () => {
    const t = trees({ 'sub/x': 'x' }, { 'app/sub': 'f' });
    await expect(copy(t)).rejects.toMatchObject({
      code: 'COPY_TYPE_CONFLICT',
      message: 'cannot copy to non-directory: /app/sub',
    });
  });

  it('a directory onto a symlink to a directory fails (the link is not followed)', async () => {
    const t = trees({ 'lib/x': 'x' }, { 'usr/lib': '/', 'app/lib': '->/usr/lib' });
    await expect(copy(t)).rejects.toMatchObject({ message: 'cannot copy to non-directory: /app/lib' });
  });

  it('a directory source onto an existing file fails as fsutil copyDirectory does; with a trailing / as MkdirAll does', async () => {
    const t = trees({ x: 'x' }, { 'app/f': 'f' });
    await expect(
      copyInto(t.src, undefined, t.root, '/app/f', false, { preserveOwner: false }),
    ).rejects.toMatchObject({ code: 'COPY_TYPE_CONFLICT', message: 'cannot copy to non-directory: /app/f' });
    await expect(
      copyInto(t.src, undefined, t.root, '/app/f/', false, { preserveOwner: false }),
    ).rejects.toMatchObject({ message: 'mkdir /app/f: not a directory' });
  });

  it('a file or a symlink onto a directory fails', async () => {
    for (const entry of ['file', '->elsewhere']) {
      const t = trees({ name: entry }, { 'app/name/inner': '/' });
      await expect(copy(t)).rejects.toMatchObject({
        message: 'cannot replace to directory /app/name with file',
      });
    }
  });

  it('a file replaces a file or a symlink; a directory merges into a directory', async () => {
    const t = trees({ f: 'new', l: 'new', 'd/x': 'x' }, { 'app/f': 'old', 'app/l': '->f', 'app/d/y': 'y' });
    await copy(t);
    expect(readFileSync(join(t.root, 'app/f'), 'utf8')).toBe('new');
    expect(readFileSync(join(t.root, 'app/l'), 'utf8')).toBe('new');
    expect(readFileSync(join(t.root, 'app/d/x'), 'utf8')).toBe('x');
    expect(readFileSync(join(t.root, 'app/d/y'), 'utf8')).toBe('y');
  });
});
