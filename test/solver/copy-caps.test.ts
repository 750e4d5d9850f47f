import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFileCapabilities, copyTreeCapabilities } from '../../src/solver/ops/copy-caps.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { tempDir } from '../store/helpers.js';

requireRoot();
requireBinary('setfattr');

const CAP = '0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=';
const setCap = (p: string) => execFileSync('setfattr', ['-n', 'security.capability', '-v', CAP, p]);
const attrs = (p: string) =>
  execFileSync('getfattr', ['-d', '-m', '-', '-e', 'base64', p], { encoding: 'utf8' });

describe('file capabilities of copied files', () => {
  it('a tree copy gives each file under dest the capability of its source, and nothing else', async () => {
    const src = tempDir();
    const dest = tempDir();
    for (const d of [src, dest]) {
      mkdirSync(join(d, 'sub ü'));
      for (const f of ['a', 'sub ü/b', 'plain']) writeFileSync(join(d, f), f);
    }
    setCap(join(src, 'a'));
    setCap(join(src, 'sub ü', 'b'));
    execFileSync('setfattr', ['-n', 'user.other', '-v', 'x', join(src, 'a')]);
    await copyTreeCapabilities(src, dest);
    expect(attrs(join(dest, 'a'))).toBe(
      `# file: ${join(dest, 'a').slice(1)}\nsecurity.capability=${CAP}\n\n`,
    );
    expect(attrs(join(dest, 'sub ü', 'b'))).toContain(`security.capability=${CAP}`);
    expect(attrs(join(dest, 'plain'))).toBe('');
  });

  it('copied files (source, destination pairs) get their sources capabilities', async () => {
    const src = tempDir();
    const dest = tempDir();
    for (const f of ['x', 'y']) {
      writeFileSync(join(src, f), f);
      writeFileSync(join(dest, `${f}2`), f);
    }
    setCap(join(src, 'y'));
    await copyFileCapabilities([
      [join(src, 'x'), join(dest, 'x2')],
      [join(src, 'y'), join(dest, 'y2')],
    ]);
    expect(attrs(join(dest, 'x2'))).toBe('');
    expect(attrs(join(dest, 'y2'))).toContain(`security.capability=${CAP}`);
  });

  it('many files under one source dir: one recursive read, only the pairs given get capabilities', async () => {
    const src = tempDir();
    const dest = tempDir();
    const pairs: [string, string][] = [];
    for (let i = 0; i < 600; i++) {
      writeFileSync(join(src, `f${i}`), '');
      writeFileSync(join(dest, `g${i}`), '');
      if (i !== 7) pairs.push([join(src, `f${i}`), join(dest, `g${i}`)]);
    }
    for (const i of [3, 7, 599]) setCap(join(src, `f${i}`));
    await copyFileCapabilities(pairs, src);
    expect(attrs(join(dest, 'g3'))).toContain(`security.capability=${CAP}`);
    expect(attrs(join(dest, 'g599'))).toContain(`security.capability=${CAP}`);
    expect(attrs(join(dest, 'g7'))).toBe('');
    expect(attrs(join(dest, 'g4'))).toBe('');
  });
});
