import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extractArchive } from '../../src/solver/ops/unpack.js';
import { requireRoot } from '../helpers/require.js';

requireRoot();
const tmp = mkdtempSync(join(tmpdir(), 'tsb-unpack-x-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ADD of a local tar extracts as moby Unpack does', () => {
  it('keeps setuid/setgid bits, makes FIFOs, and leaves the destination dir to the `./` entry', async () => {
    const src = join(tmp, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'suid'), '');
    chmodSync(join(src, 'suid'), 0o4711);
    writeFileSync(join(src, 'sgid'), '');
    chmodSync(join(src, 'sgid'), 0o2755);
    execFileSync('mkfifo', [join(src, 'fifo')]);
    chmodSync(join(src, 'fifo'), 0o640);
    chmodSync(src, 0o700);
    const tar = join(tmp, 'a.tar');
    execFileSync('tar', ['--owner=7', '--group=8', '-C', src, '-cf', tar, '.']);
    const root = join(tmp, 'root');
    mkdirSync(root);
    await extractArchive(tar, root, '/dst/');
    const mode = (p: string) => (lstatSync(join(root, 'dst', p)).mode & 0o7777).toString(8);
    expect(mode('suid')).toBe('4711');
    expect(mode('sgid')).toBe('2755');
    expect(lstatSync(join(root, 'dst/fifo')).isFIFO()).toBe(true);
    expect(mode('fifo')).toBe('640');
    expect(lstatSync(join(root, 'dst/suid')).uid).toBe(7);
    // `./` (0700, 7:8 in the archive) does not touch the directory ADD made
    const d = lstatSync(join(root, 'dst'));
    expect([(d.mode & 0o7777).toString(8), d.uid, d.gid]).toEqual(['755', 0, 0]);
  });
});
