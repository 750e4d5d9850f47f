import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
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

  // Archives made with Python's tarfile: symlinks and names GNU tar would refuse to write.
  const pyTar = (name: string, entries: string): string => {
    const out = join(tmp, name);
    const py = `import tarfile,io\nt=tarfile.open(${JSON.stringify(out)},'w',format=tarfile.PAX_FORMAT)\n${entries}\nt.close()`;
    execFileSync('python3', ['-c', py]);
    return out;
  };
  const link = (n: string, to: string) =>
    `i=tarfile.TarInfo('${n}'); i.type=tarfile.SYMTYPE; i.linkname='${to}'; t.addfile(i)`;
  const file = (n: string, d: string) =>
    `i=tarfile.TarInfo('${n}'); i.size=${d.length}; t.addfile(i, io.BytesIO(b'${d}'))`;

  it('--chown owns the entries and the destination dirs ADD makes, not one that was there (BuildKit >= 0.23)', async () => {
    const root = join(tmp, 'root-chown');
    mkdirSync(join(root, 'exists'), { recursive: true });
    const tar = pyTar(
      'owned.tar',
      [
        `i=tarfile.TarInfo('d'); i.type=tarfile.DIRTYPE; i.mode=0o755; i.uid=3; i.gid=4; t.addfile(i)`,
        `i=tarfile.TarInfo('d/f'); i.size=1; i.uid=3; i.gid=4; t.addfile(i, io.BytesIO(b'x'))`,
      ].join('\n'),
    );
    await extractArchive(tar, root, '/made/deep/', { uid: 7, gid: 8 });
    await extractArchive(tar, root, '/exists/', { uid: 7, gid: 8 });
    const owner = (p: string) => {
      const st = lstatSync(join(root, p));
      return `${st.uid}:${st.gid}`;
    };
    expect(['made', 'made/deep', 'made/deep/d', 'made/deep/d/f'].map(owner)).toEqual([
      '7:8',
      '7:8',
      '7:8',
      '7:8',
    ]);
    expect(['exists', 'exists/d', 'exists/d/f'].map(owner)).toEqual(['0:0', '7:8', '7:8']);
  });

  it("resolves the archive's own symlinks with the destination as the root (moby's chroot)", async () => {
    const root = join(tmp, 'root-confined');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'passwd'), 'root\n');
    const tar = pyTar(
      'confined.tar',
      [
        `i=tarfile.TarInfo('etc'); i.type=tarfile.DIRTYPE; i.mode=0o755; t.addfile(i)`,
        link('abs', '/etc'),
        file('abs/passwd', 'evil'),
      ].join('\n'),
    );
    await extractArchive(tar, root, '/z/');
    expect(readFileSync(join(root, 'etc', 'passwd'), 'utf8')).toBe('root\n');
    expect(readFileSync(join(root, 'z', 'etc', 'passwd'), 'utf8')).toBe('evil');
  });

  it("gives a hard link entry's mode, owner and mtime to the inode it shares, not to a symlink", async () => {
    const root = join(tmp, 'root-hardlink');
    mkdirSync(root);
    const hard = (n: string, to: string, mode: number, id: number) =>
      `i=tarfile.TarInfo('${n}'); i.type=tarfile.LNKTYPE; i.linkname='${to}'; i.mode=${mode}; i.uid=i.gid=${id}; i.mtime=1500000000; t.addfile(i)`;
    const tar = pyTar(
      'hardlink.tar',
      [
        `i=tarfile.TarInfo('a'); i.size=1; i.mode=0o644; i.uid=i.gid=7; i.mtime=1600000000; t.addfile(i, io.BytesIO(b'a'))`,
        hard('b', 'a', 0o755, 9),
        link('s', 'a'),
        hard('t', 's', 0o600, 3),
      ].join('\n'),
    );
    await extractArchive(tar, root, '/d/');
    const a = lstatSync(join(root, 'd', 'a'));
    expect([(a.mode & 0o7777).toString(8), a.uid, a.gid, a.mtimeMs, a.nlink]).toEqual([
      '755',
      9,
      9,
      1500000000000,
      2,
    ]);
    // a hard link to the symlink: the owner is the entry's, the mode stays a symlink's
    const t = lstatSync(join(root, 'd', 't'));
    expect([t.isSymbolicLink(), t.uid, t.mode & 0o777]).toEqual([true, 3, 0o777]);
  });

  it('fails, as BuildKit does, on a file entry that would replace the destination itself (`..`)', async () => {
    const root = join(tmp, 'root-dotdot-file');
    mkdirSync(join(root, 'd'), { recursive: true });
    writeFileSync(join(root, 'd', 'keep'), 'k');
    const tar = pyTar('dotdot-file.tar', [file('a', 'x'), file('..', 'y')].join('\n'));
    await expect(extractArchive(tar, root, '/d/')).rejects.toMatchObject({
      code: 'ADD_BAD_TAR',
      message: 'dotdot-file.tar: entry .. (File) would replace the destination itself',
    });
    expect(readFileSync(join(root, 'd', 'keep'), 'utf8')).toBe('k');
  });

  it('fails, as BuildKit does, to write through its symlink into a dir that does not exist', async () => {
    const root = join(tmp, 'root-dangling');
    mkdirSync(join(root, 'etc2'), { recursive: true });
    const tar = pyTar('dangling.tar', [link('lnk', '/etc2'), file('lnk/conf', 'evil')].join('\n'));
    await expect(extractArchive(tar, root, '/z/')).rejects.toMatchObject({
      code: 'ADD_BAD_TAR',
      message: 'dangling.tar: open /lnk/conf: no such file or directory',
    });
    expect(readdirSync(join(root, 'etc2'))).toEqual([]);
  });

  it('keeps a name that climbs out at the top of the destination, and makes dirs through its symlinks', async () => {
    const root = join(tmp, 'root-climb');
    mkdirSync(root);
    const tar = pyTar(
      'climb.tar',
      [
        file('../../escape', 'x'),
        `i=tarfile.TarInfo('real'); i.type=tarfile.DIRTYPE; i.mode=0o755; t.addfile(i)`,
        link('l', 'real'),
        file('l/a/b/c', 'deep'),
      ].join('\n'),
    );
    await extractArchive(tar, root, '/z/');
    expect(readdirSync(root)).toEqual(['z']);
    expect(readFileSync(join(root, 'z', 'escape'), 'utf8')).toBe('x');
    expect(readFileSync(join(root, 'z', 'real', 'a', 'b', 'c'), 'utf8')).toBe('deep');
  });

  it('reads PAX records by their byte lengths: multi-byte names and link targets, nothing else made', async () => {
    const src = join(tmp, 'pax-src');
    mkdirSync(join(src, 'dïr-çççç'), { recursive: true });
    writeFileSync(join(src, 'dïr-çççç', 'fïlé-ünïcödé'), 'u');
    execFileSync('ln', ['-s', `tärgét-${'x'.repeat(110)}`, join(src, 'lïnk-ñ')]);
    const tar = join(tmp, 'pax.tar');
    execFileSync('tar', ['--format=posix', '-C', src, '-cf', tar, '.']);
    const root = join(tmp, 'root-pax');
    mkdirSync(root);
    await extractArchive(tar, root, '/x/');
    expect(readdirSync(join(root, 'x')).sort()).toEqual(['dïr-çççç', 'lïnk-ñ']);
    expect(readdirSync(join(root, 'x', 'dïr-çççç'))).toEqual(['fïlé-ünïcödé']);
    expect(readlinkSync(join(root, 'x', 'lïnk-ñ'))).toBe(`tärgét-${'x'.repeat(110)}`);
  });

  it("sets the entries' xattrs (SCHILY.xattr.*, as GNU tar --xattrs writes them), never overlayfs's own", async () => {
    const cap = '0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=';
    const capBytes = Buffer.from(cap.slice(2), 'base64');
    const tar = pyTar(
      'xattrs.tar',
      [
        `i=tarfile.TarInfo('bin'); i.type=tarfile.DIRTYPE; i.mode=0o755; i.pax_headers={'SCHILY.xattr.trusted.overlay.opaque': 'y'}; t.addfile(i)`,
        // a user.* attribute on a symlink: the kernel refuses it (EPERM), moby skips it, so do we
        `i=tarfile.TarInfo('bin/sl'); i.type=tarfile.SYMTYPE; i.linkname='ping'; i.pax_headers={'SCHILY.xattr.user.k': 'v'}; t.addfile(i)`,
        `i=tarfile.TarInfo('bin/ping'); i.size=1; i.pax_headers={'SCHILY.xattr.security.capability': bytes.fromhex('${capBytes.toString('hex')}').decode('latin1'), 'SCHILY.xattr.user.k': 'v'}; t.addfile(i, io.BytesIO(b'p'))`,
      ].join('\n'),
    );
    const root = join(tmp, 'root-xattrs');
    mkdirSync(root);
    await extractArchive(tar, root, '/x/');
    const attrs = (p: string) =>
      execFileSync('getfattr', ['-d', '-m', '-', '-e', 'base64', p], { encoding: 'utf8' });
    expect(attrs(join(root, 'x', 'bin', 'ping'))).toContain(`security.capability=${cap}`);
    expect(attrs(join(root, 'x', 'bin', 'ping'))).toContain('user.k=0sdg==');
    expect(attrs(join(root, 'x', 'bin'))).not.toContain('overlay');
  });

  it("a later hard link entry's chown drops the capability of the inode it shares, as in moby's unpack", async () => {
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex').toString('latin1');
    const capped = (n: string) =>
      `i=tarfile.TarInfo('${n}'); i.size=1; i.pax_headers={'SCHILY.xattr.security.capability': bytes.fromhex('0100000200200000000000000000000000000000').decode('latin1')}; t.addfile(i, io.BytesIO(b'p'))`;
    const hard = (n: string, to: string, withCap: boolean) =>
      `i=tarfile.TarInfo('${n}'); i.type=tarfile.LNKTYPE; i.linkname='${to}'${withCap ? `; i.pax_headers={'SCHILY.xattr.security.capability': bytes.fromhex('0100000200200000000000000000000000000000').decode('latin1')}` : ''}; t.addfile(i)`;
    const tar = pyTar(
      'caps-links.tar',
      [capped('a'), hard('a2', 'a', false), capped('b'), hard('b2', 'b', true)].join('\n'),
    );
    const root = join(tmp, 'root-caps-links');
    mkdirSync(root);
    await extractArchive(tar, root, '/x/');
    const attrs = (p: string) =>
      execFileSync('getfattr', ['-d', '-m', '-', '-e', 'hex', join(root, 'x', p)], { encoding: 'utf8' });
    expect(attrs('a')).toBe('');
    expect(attrs('b')).toContain(`security.capability=0x${Buffer.from(cap, 'latin1').toString('hex')}`);
  });

  // A 1 MiB file with two fragments: holes in between and after the last.
  const sparseSource = (dir: string): Buffer => {
    mkdirSync(dir, { recursive: true });
    const p = join(dir, 'sp');
    execFileSync('truncate', ['-s', '1M', p]);
    execFileSync('sh', [
      '-c',
      `printf head | dd of=${p} conv=notrunc 2>/dev/null; printf middle | dd of=${p} bs=1 seek=500000 conv=notrunc 2>/dev/null`,
    ]);
    return readFileSync(p);
  };

  it('expands PAX sparse files (GNU tar --sparse, versions 1.0 and 0.1) as Go archive/tar does', async () => {
    for (const version of ['1.0', '0.1']) {
      const src = join(tmp, `sparse-src-${version}`);
      const want = sparseSource(src);
      const tar = join(tmp, `sparse-${version}.tar`);
      execFileSync('tar', [
        '--sparse',
        '--format=posix',
        `--sparse-version=${version}`,
        '-C',
        src,
        '-cf',
        tar,
        '.',
      ]);
      const root = join(tmp, `root-sparse-${version}`);
      mkdirSync(root);
      await extractArchive(tar, root, '/s/');
      expect(readdirSync(join(root, 's')), version).toEqual(['sp']);
      const got = readFileSync(join(root, 's', 'sp'));
      expect(got.length).toBe(1 << 20);
      expect(got.equals(want), version).toBe(true);
      // the holes stay holes
      expect(lstatSync(join(root, 's', 'sp')).blocks).toBeLessThan(64);
    }
  });

  it('refuses entry types moby cannot unpack (old GNU sparse, type 83) with a clear error', async () => {
    const src = join(tmp, 'gnu-sparse-src');
    sparseSource(src);
    const tar = join(tmp, 'gnu-sparse.tar');
    execFileSync('tar', ['--sparse', '--format=gnu', '-C', src, '-cf', tar, '.']);
    const root = join(tmp, 'root-gnu-sparse');
    mkdirSync(root);
    await expect(extractArchive(tar, root, '/s/')).rejects.toMatchObject({
      code: 'ADD_BAD_TAR',
      message: 'gnu-sparse.tar: unhandled tar header type 83',
    });
  });

  it('stops at the end-of-archive blocks: a second tar concatenated after them is not extracted (Go archive/tar)', async () => {
    const parts = ['one', 'two'].map((n) => {
      const src = join(tmp, `concat-${n}`);
      mkdirSync(src);
      writeFileSync(join(src, n), n);
      const t = join(tmp, `${n}.tar`);
      execFileSync('tar', ['-C', src, '-cf', t, '.']);
      return readFileSync(t);
    });
    writeFileSync(join(tmp, 'concat.tar'), Buffer.concat(parts));
    writeFileSync(join(tmp, 'concat.tar.gz'), Buffer.concat(parts.map((p) => gzipSync(p))));
    for (const name of ['concat.tar', 'concat.tar.gz']) {
      const root = join(tmp, `root-${name}`);
      mkdirSync(root);
      await extractArchive(join(tmp, name), root, '/c/');
      expect(readdirSync(join(root, 'c'))).toEqual(['one']);
    }
  });

  it('a truncated archive is an ADD_BAD_TAR naming it, compressed or not (moby: unexpected EOF)', async () => {
    const src = join(tmp, 'trunc-src');
    mkdirSync(src);
    writeFileSync(join(src, 'a'), Buffer.alloc(100_000, 1));
    writeFileSync(join(src, 'b'), Buffer.alloc(100_000, 2));
    const whole = join(tmp, 'whole.tar');
    execFileSync('tar', ['-C', src, '-cf', whole, '.']);
    const tar = readFileSync(whole);
    writeFileSync(join(tmp, 'cut.tar'), tar.subarray(0, 150_000));
    const gz = gzipSync(tar);
    writeFileSync(join(tmp, 'cut.tar.gz'), gz.subarray(0, gz.length >> 1));
    const xz = execFileSync('xz', ['-1', '-c', whole]);
    // cut where the output so far may end between entries: the tool's exit status decides
    writeFileSync(join(tmp, 'cut.tar.xz'), xz.subarray(0, xz.length - 8));
    for (const [name, why] of [
      ['cut.tar', 'invalid tar in cut.tar: truncated'],
      ['cut.tar.gz', 'error processing tar file cut.tar.gz: unexpected end of file'],
      ['cut.tar.xz', 'cut.tar.xz: xz: cut.tar.xz: Unexpected end of input'],
    ]) {
      const root = join(tmp, `root-${name}`);
      mkdirSync(root);
      await expect(extractArchive(join(tmp, name as string), root, '/t/')).rejects.toMatchObject({
        code: 'ADD_BAD_TAR',
        message: why,
      });
    }
  });

  it('makes the device nodes of a GNU-format tar with their numbers', async () => {
    const src = join(tmp, 'gnu-dev-src');
    mkdirSync(src);
    execFileSync('mknod', [join(src, 'null'), 'c', '1', '3']);
    const tar = join(tmp, 'gnu-dev.tar');
    execFileSync('tar', ['--format=gnu', '-C', src, '-cf', tar, '.']);
    const root = join(tmp, 'root-gnu-dev');
    mkdirSync(root);
    await extractArchive(tar, root, '/d/');
    const st = lstatSync(join(root, 'd', 'null'));
    expect(st.isCharacterDevice()).toBe(true);
    expect([Math.floor(st.rdev / 256), st.rdev % 256]).toEqual([1, 3]);
  });
});
