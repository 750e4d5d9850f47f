import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasWildcard } from '../../src/context/index.js';
import { matchInView, sourceName } from '../../src/solver/ops/copy-sources.js';
import { copyInto } from '../../src/solver/ops/copy-tree.js';

const root = mkdtempSync(join(tmpdir(), 'tsb-csrc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 't/sub'), { recursive: true });
writeFileSync(join(root, 't/f'), 'x');
symlinkSync('f', join(root, 't/sym'));
symlinkSync('/t/sub', join(root, 't/abs'));

describe('COPY --from sources: followed for content, named as written (BuildKit)', () => {
  it('a literal symlink source resolves to its target but keeps its own name', async () => {
    const [m] = await matchInView(root, '/t/sym');
    expect(m).toEqual({ host: join(root, 't/f'), name: 'sym' });
    const [d] = await matchInView(root, 't/abs/');
    expect(d).toEqual({ host: join(root, 't/sub'), name: 'abs' });
  });

  it('wildcard matches are named by the matched entry, not its link target', async () => {
    const ms = await matchInView(root, '/t/s*');
    expect(ms.map((m) => [m.name, m.host])).toEqual([
      ['sub', join(root, 't/sub')],
      ['sym', join(root, 't/f')],
    ]);
  });

  it('a backslash is no wildcard: a plain path names the file with it; in a pattern it escapes', async () => {
    mkdirSync(join(root, 'b/d\\x'), { recursive: true });
    writeFileSync(join(root, 'b/back\\slash'), 'bs');
    writeFileSync(join(root, 'b/backslash'), 'plain');
    writeFileSync(join(root, 'b/d\\x/in'), 'i');
    expect(hasWildcard('back\\slash')).toBe(false);
    expect(hasWildcard('a\\*')).toBe(false);
    expect(hasWildcard('a\\**')).toBe(true);
    // fsutil's copy: literal, as BuildKit's COPY --from (the file with the backslash)
    expect((await matchInView(root, '/b/back\\slash')).map((m) => m.host)).toEqual([
      join(root, 'b/back\\slash'),
    ]);
    // a pattern: `\s` is `s`
    expect((await matchInView(root, '/b/back\\sla*')).map((m) => m.name)).toEqual(['backslash']);
    // components before the first wildcard one are literal, the ones after it a pattern
    expect((await matchInView(root, '/b/d\\x/*')).map((m) => m.name)).toEqual(['in']);
    expect(await matchInView(root, '/b/d*/i\\n')).toHaveLength(1);
  });

  it('the name ignores trailing slashes and dots', () => {
    expect(sourceName('/t/sym/')).toBe('sym');
    expect(sourceName('t/./sym/.')).toBe('sym');
    expect(sourceName('/')).toBe('');
  });

  it('a missing source is an error; a wildcard may match nothing', async () => {
    await expect(matchInView(root, '/t/nope')).rejects.toThrow(/not found/);
    expect(await matchInView(root, '/t/nope*')).toEqual([]);
  });

  it('copyInto names a file source placed into a directory by the name it was given', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'tsb-csrc-dest-'));
    try {
      const [m] = await matchInView(root, '/t/sym');
      await copyInto(m!.host, undefined, dest, '/links/', false, { preserveOwner: true, name: m!.name });
      expect(readdirSync(join(dest, 'links'))).toEqual(['sym']);
      expect(lstatSync(join(dest, 'links/sym')).isFile()).toBe(true);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });

  it('copyInto: a device becomes an empty regular file, a FIFO is skipped (BuildKit fsutil copy)', async () => {
    const src = mkdtempSync(join(tmpdir(), 'tsb-csrc-sp-'));
    const dest = mkdtempSync(join(tmpdir(), 'tsb-csrc-spd-'));
    try {
      execFileSync('mknod', ['-m', '600', join(src, 'null'), 'c', '1', '3']);
      execFileSync('mkfifo', [join(src, 'fifo')]);
      await copyInto(src, undefined, dest, '/out', false, { preserveOwner: true });
      expect(readdirSync(join(dest, 'out'))).toEqual(['null']);
      const st = lstatSync(join(dest, 'out/null'));
      expect([st.isFile(), st.size, (st.mode & 0o7777).toString(8)]).toEqual([true, 0, '600']);
    } finally {
      rmSync(src, { recursive: true, force: true });
      rmSync(dest, { recursive: true, force: true });
    }
  });
});
