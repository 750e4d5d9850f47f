import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveKind, isArchive } from '../../src/solver/ops/unpack.js';

const dir = mkdtempSync(join(tmpdir(), 'tsb-unpack-detect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (n: string) => join(dir, n);
mkdirSync(at('t'));
writeFileSync(at('t/f'), 'f\n');
execFileSync('tar', ['-C', at('t'), '-cf', at('a.tar'), 'f']);
for (const [tool, ext] of [
  ['gzip', 'gz'],
  ['bzip2', 'bz2'],
  ['xz', 'xz'],
] as const) {
  execFileSync('sh', ['-c', `${tool} -c ${at('a.tar')} > ${at(`a.tar.${ext}`)}`]);
  execFileSync('sh', ['-c', `printf 'plain text\\n' | ${tool} -c > ${at(`text.${ext}`)}`]);
}

describe('ADD archive detection (BuildKit isArchivePath: decompress, then a tar header)', () => {
  it('compressed tars are archives, by content not by name', async () => {
    expect(await archiveKind(at('a.tar'))).toBe('tar');
    expect(await archiveKind(at('a.tar.gz'))).toBe('gzip');
    expect(await archiveKind(at('a.tar.bz2'))).toBe('bzip2');
    expect(await archiveKind(at('a.tar.xz'))).toBe('xz');
  });

  it('a compressed file that is not a tar is copied as it is', async () => {
    for (const ext of ['gz', 'bz2', 'xz']) expect(await isArchive(at(`text.${ext}`))).toBe(false);
  });

  it('a gzip of fewer than 512 bytes, a truncated or corrupt stream, or an empty tar is no archive', async () => {
    writeFileSync(at('short.gz'), gzipSync(Buffer.from('tiny')));
    writeFileSync(at('corrupt.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4]));
    writeFileSync(at('empty.tar.gz'), gzipSync(Buffer.alloc(10240)));
    for (const n of ['short.gz', 'corrupt.gz', 'empty.tar.gz']) expect(await isArchive(at(n))).toBe(false);
  });

  it('a header block whose checksum holds but whose fields do not decode is no archive (BuildKit copies it)', async () => {
    // random bytes with a valid checksum and a size field that is neither octal nor base-256
    const b = Buffer.alloc(512, 0x41);
    b.fill(0x20, 148, 156);
    b[124] = 0xc0;
    let sum = 0;
    for (const x of b) sum += x;
    b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    writeFileSync(at('odd.tar.gz'), gzipSync(Buffer.concat([b, Buffer.alloc(1024)])));
    writeFileSync(at('odd.tar'), Buffer.concat([b, Buffer.alloc(1024)]));
    for (const n of ['odd.tar.gz', 'odd.tar']) expect(await isArchive(at(n))).toBe(false);
  });
});
