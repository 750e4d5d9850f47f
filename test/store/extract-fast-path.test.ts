import { lstatSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Header } from 'tar';
import { describe, expect, it } from 'vitest';
import { extractLayer } from '../../src/store/index.js';
import { cleanEntryPath } from '../../src/store/layer/root-resolver.js';
import { decodeHeader } from '../../src/store/layer/tar-format.js';
import { requireRoot } from '../helpers/require.js';
import { tempDir } from './helpers.js';

function header(fields: Record<string, unknown>, edit?: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(512);
  new Header({ mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: 0, ...fields } as never).encode(b, 0);
  if (edit) {
    edit(b);
    // Re-checksum what the edit changed.
    b.fill(0x20, 148, 156);
    let sum = 0;
    for (const x of b) sum += x;
    b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  }
  return b;
}

/** What node-tar makes of a block, in decodeHeader's terms. */
function viaNodeTar(b: Buffer) {
  const h = new Header(b, 0);
  return {
    typeKey: h.typeKey,
    path: h.path,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.size,
    mtime: h.mtime ? h.mtime.getTime() / 1000 : undefined,
  };
}

describe('plain ustar headers decoded without node-tar', () => {
  const field = (off: number, s: string) => (b: Buffer) => {
    b.fill(0, off, off + (off === 124 || off === 136 ? 12 : 8));
    b.write(s, off, 'latin1');
  };
  const cases: [string, Buffer][] = [
    ['file', header({ path: 'a/b', type: 'File', size: 1234, mtime: new Date(1_700_000_000_000) })],
    ['symlink', header({ path: 'bin/sh', type: 'SymbolicLink', linkpath: '/bin/busybox' })],
    ['dir', header({ path: 'etc/', type: 'Directory', mode: 0o2755, uid: 1000, gid: 1000 })],
    ['old dir (file with a slash)', header({ path: 'x/', type: 'File' })],
    ['typeflag NUL', header({ path: 'f', type: 'File' }, (b) => b.fill(0, 156, 157))],
    ['space padded', header({ path: 'f', type: 'File' }, field(100, '   644 '))],
    ['trailing junk', header({ path: 'f', type: 'File' }, field(108, '12x'))],
    ['empty uid', header({ path: 'f', type: 'File' }, field(108, ''))],
    ['signed', header({ path: 'f', type: 'File' }, field(116, '-7'))],
    ['tab', header({ path: 'f', type: 'File' }, field(116, '\t7'))],
    ['base-256 uid', header({ path: 'f', type: 'File', uid: 2 ** 30 })],
    ['name with a tail after NUL', header({ path: 'f', type: 'File' }, (b) => b.write('\nzz', 2, 'latin1'))],
    ['pax', header({ path: 'PaxHeaders/f', type: 'ExtendedHeader', size: 30 })],
  ];
  it.each(cases)('%s: same fields as node-tar', (_n, b) => {
    const ours = decodeHeader(b)!;
    const theirs = viaNodeTar(b);
    for (const k of Object.keys(theirs) as (keyof typeof theirs)[]) expect(ours[k], k).toEqual(theirs[k]);
  });

  it('a bad checksum and the zero block', () => {
    const b = header({ path: 'f', type: 'File' });
    expect(decodeHeader(Buffer.alloc(512))).toBeUndefined();
    b[0] = 0x67;
    expect(() => decodeHeader(b)).toThrow(/checksum/);
  });

  it('clean names are returned as they are, others normalized', () => {
    expect(cleanEntryPath('bin/sh')).toBe('bin/sh');
    expect(cleanEntryPath('etc/')).toBe('etc');
    expect(cleanEntryPath('./etc//x/')).toBe('etc/x');
    expect(cleanEntryPath('/a/./b/../c')).toBe('a/c');
    expect(cleanEntryPath('a/...')).toBe('a/...');
    expect(() => cleanEntryPath('a/../../x')).toThrow();
  });
});

function tar(entries: Record<string, unknown>[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from((e.body as string) ?? '');
    parts.push(header({ ...e, body: undefined, size: body.length }));
    if (body.length) parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

describe('extraction into a fresh dir (no lstat, no chown where nothing changes)', () => {
  requireRoot();
  const extract = (buf: Buffer, root: string) =>
    extractLayer(Readable.from([buf]), root, { mode: 'overlay' });

  it('duplicates and implicit parents made earlier in the same layer are replaced', async () => {
    const root = join(tempDir('tsb-fresh-'), 'r');
    mkdirSync(root);
    await extract(
      tar([
        { path: 'a/b/f', type: 'File', body: 'one' },
        { path: 'a/b/f', type: 'SymbolicLink', linkpath: 'x' },
        { path: 'a/b/', type: 'Directory', mode: 0o700 },
        { path: 'a/b/g', type: 'File', body: 'g' },
        { path: 'a/b/g', type: 'File', body: 'two' },
        { path: 'd/', type: 'Directory' },
        { path: 'd', type: 'File', body: 'file now' },
      ]),
      root,
    );
    expect(readlinkSync(join(root, 'a/b/f'))).toBe('x');
    expect(lstatSync(join(root, 'a/b')).mode & 0o7777).toBe(0o700);
    expect(readFileSync(join(root, 'a/b/g'), 'utf8')).toBe('two');
    expect(readFileSync(join(root, 'd'), 'utf8')).toBe('file now');
  });

  it('entries under a setgid dir still get the group of the tar', async () => {
    const root = join(tempDir('tsb-fresh-'), 'r');
    mkdirSync(root);
    await extract(
      tar([
        { path: 'g/', type: 'Directory', mode: 0o2755, gid: 1234 },
        { path: 'g/f', type: 'File', body: 'x' },
        { path: 'g/l', type: 'SymbolicLink', linkpath: 'f' },
        { path: 'g/sub/', type: 'Directory' },
        { path: 'g/new/f', type: 'File', body: 'y' },
        { path: 'h/f', type: 'File', body: 'z', gid: 99 },
      ]),
      root,
    );
    for (const p of ['g/f', 'g/l', 'g/sub', 'g/new/f']) expect(lstatSync(join(root, p)).gid, p).toBe(0);
    expect(lstatSync(join(root, 'g')).gid).toBe(1234);
    expect(lstatSync(join(root, 'h/f')).gid).toBe(99);
  });
});
