import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeName,
  fsPath,
  hasEscapes,
  nameBytes,
  nfs,
  readdirNames,
  readlinkName,
} from '../../src/fs-names.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsb-names-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('file names that are not UTF-8 (surrogateescape)', () => {
  it('keeps valid UTF-8 as Node decodes it, escapes are one to one', () => {
    for (const s of ['plain', 'été', '日本', 'a😀b', '\uFFFD literal']) {
      const b = Buffer.from(s, 'utf8');
      expect(decodeName(b)).toBe(s);
      expect(hasEscapes(s)).toBe(false);
      expect(nameBytes(s).equals(b)).toBe(true);
      expect(fsPath(s)).toBe(s);
    }
    const cases = [
      [0xff, 0x78],
      [0xe9, 0x74, 0xe9], // latin1 "été"
      [0xc3], // a lead byte at the end
      [0xe2, 0x82], // a 3-byte sequence cut short
      [0xed, 0xa0, 0x80], // a UTF-8-encoded surrogate: invalid
      [0xc0, 0xaf], // overlong '/'
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xf0, 0x9f, 0x98, 0x80, 0xff], // a valid emoji, then a stray byte
    ].map((a) => Buffer.from(a));
    const seen = new Set<string>();
    for (const b of cases) {
      const s = decodeName(b);
      expect(hasEscapes(s), b.toString('hex')).toBe(true);
      expect(nameBytes(s).toString('hex')).toBe(b.toString('hex'));
      seen.add(s);
    }
    expect(seen.size).toBe(cases.length);
    expect(decodeName(Buffer.from([0xf0, 0x9f, 0x98, 0x80, 0xff]))).toBe('😀\uDCFF');
  });

  it('lists, stats and reads such names on disk by the escaped string', () => {
    const name = Buffer.from([0x61, 0xff, 0xfe]);
    writeFileSync(Buffer.concat([Buffer.from(`${tmp}/`), name]), 'x');
    writeFileSync(join(tmp, 'ok'), 'y');
    // Node's own listing cannot name it: U+FFFD twice
    expect(readdirSync(tmp).sort()).toEqual(['a\uFFFD\uFFFD', 'ok']);
    const names = readdirNames(tmp).sort();
    expect(names).toEqual(['a\uDCFF\uDCFE', 'ok']);
    expect(nfs.lstat(join(tmp, names[0]!)).size).toBe(1);
    nfs.symlink(names[0]!, join(tmp, 'link'));
    expect(readlinkName(join(tmp, 'link'))).toBe(names[0]);
  });
});
