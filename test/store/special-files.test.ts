import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeCalls } from '../../src/native.js';
import { makeNodes, readXattrs, writeXattrs } from '../../src/store/layer/special-files.js';
import { NATIVE_IMPLEMENTATIONS, useNativeSetting } from '../helpers/native-impls.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { sh, tempDir } from './helpers.js';

requireRoot();
requireBinary('getfattr', 'attr');

const bytes = (s: string) => Buffer.from(s, 'latin1');
/** A name that is not UTF-8 (byte 0xff), as a latin1 byte string and as the Buffer path. */
const ODD = 'odd-\xff';
/** A valid vfs_cap_data (cap_net_raw+ep): the kernel checks a capability's bytes. */
const CAP = '0100000200200000000000000000000000000000';

function fixture(root: string): void {
  mkdirSync(join(root, 'dir/sub'), { recursive: true });
  writeFileSync(join(root, 'dir/sub/ping'), 'x');
  writeFileSync(join(root, 'plain'), 'y');
  mkdirSync(join(root, 'target'));
  symlinkSync('target', join(root, 'link'));
  writeFileSync(Buffer.concat([bytes(`${root}/`), bytes(ODD)]), 'z');
  sh(
    `setfattr -n security.capability -v 0x${CAP} dir/sub/ping
      setfattr -n trusted.overlay.opaque -v y dir
      setfattr -n user.note -v hello .
      setfattr -n user.two -v 2 dir/sub/ping
      setfattr -n user.t -v 1 target
      setfattr -n user.odd -v 1 "$(printf 'odd-\\377')"`,
    root,
  );
}

describe.each(NATIVE_IMPLEMENTATIONS)('special files through the $name', ({ off }) => {
  useNativeSetting(off);

  it('reads every xattr of a tree, keyed by byte-string paths, without following symlinks', async () => {
    const root = tempDir();
    fixture(root);
    const found = await readXattrs(root);
    const flat = [...found].flatMap(([rel, list]) =>
      list.map(([n, v]) => `${rel}|${n}|${v.toString('hex')}`),
    );
    expect(flat.sort()).toEqual(
      [
        `|user.note|${Buffer.from('hello').toString('hex')}`,
        'dir|trusted.overlay.opaque|79',
        `dir/sub/ping|security.capability|${CAP}`,
        'dir/sub/ping|user.two|32',
        `${ODD}|user.odd|31`,
        'target|user.t|31',
      ].sort(),
    );
  });

  it('filters by a name pattern, and reads only the paths asked for', async () => {
    const root = tempDir();
    fixture(root);
    const caps = await readXattrs(root, { match: '^security\\.capability$' });
    expect([...caps.keys()]).toEqual(['dir/sub/ping']);
    const some = await readXattrs(root, { paths: ['dir/sub/ping', 'plain', 'dir'] });
    expect([...some.keys()].sort()).toEqual(['dir', 'dir/sub/ping']);
    expect(
      some
        .get('dir/sub/ping')
        ?.map(([n]) => n)
        .sort(),
    ).toEqual(['security.capability', 'user.two']);
  });

  it('writes xattrs on byte-string paths, the root included, never through a symlink', async () => {
    const root = tempDir();
    fixture(root);
    await writeXattrs(root, [
      { rel: '', name: 'user.top', value: Buffer.from('1') },
      { rel: ODD, name: 'user.w', value: Buffer.from([0, 1, 2]) },
      { rel: 'plain', name: 'security.capability', value: Buffer.from(CAP, 'hex') },
    ]);
    const found = await readXattrs(root);
    expect(
      found
        .get('')
        ?.find(([n]) => n === 'user.top')?.[1]
        .toString(),
    ).toBe('1');
    expect(found.get(ODD)?.find(([n]) => n === 'user.w')?.[1]).toEqual(Buffer.from([0, 1, 2]));
    expect(found.get('plain')?.map(([n]) => n)).toEqual(['security.capability']);
    // A symlink itself takes no user.* xattr (the kernel refuses): the target must stay untouched.
    await expect(
      writeXattrs(root, [{ rel: 'link', name: 'user.x', value: Buffer.from('1') }]),
    ).rejects.toThrow();
    expect((await readXattrs(root)).get('target')?.map(([n]) => n)).toEqual(['user.t']);
  });

  it('sets what it can before it reports a failure', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'a'), '');
    writeFileSync(join(root, 'c'), '');
    const write = writeXattrs(root, [
      { rel: 'a', name: 'user.a', value: Buffer.from('1') },
      { rel: 'missing', name: 'user.b', value: Buffer.from('1') },
      { rel: 'c', name: 'user.c', value: Buffer.from('1') },
    ]);
    await expect(write).rejects.toThrow(/setfattr/);
    expect([...(await readXattrs(root)).keys()].sort()).toEqual(['a', 'c']);
  });

  it('makes whiteouts, device nodes and FIFOs under any name', async () => {
    const root = tempDir();
    const at = (n: string) => `${root}/${n}`;
    await makeNodes([
      { path: at('.wh-like'), type: 'c', major: 0, minor: 0 },
      { path: at(ODD), type: 'c', major: 1, minor: 3 },
      { path: at('blk'), type: 'b', major: 7, minor: 0 },
      { path: at('fifo'), type: 'p', major: 0, minor: 0 },
    ]);
    const wh = lstatSync(at('.wh-like'));
    expect(wh.isCharacterDevice() && wh.rdev).toBe(0);
    const odd = lstatSync(bytes(at(ODD)));
    expect(odd.isCharacterDevice()).toBe(true);
    expect([odd.rdev >> 8, odd.rdev & 0xff]).toEqual([1, 3]);
    expect(lstatSync(at('blk')).isBlockDevice()).toBe(true);
    expect(lstatSync(at('fifo')).isFIFO()).toBe(true);
    await expect(makeNodes([{ path: at('fifo'), type: 'p', major: 0, minor: 0 }])).rejects.toThrow(
      /mknod|File exists/,
    );
  });
});

describe('the native addon', () => {
  it('is built by npm ci', () => {
    // npm ci compiles zstd-napi too, so a machine that runs the tests has the compiler; without
    // one, tsbuild still works (the child processes above), only slower.
    expect(
      nativeCalls(),
      'build/Release/tsbuild_native.node: npm ci (node-gyp) did not build it',
    ).toBeDefined();
  });

  it('fails, rather than skip a subtree, when it runs out of file descriptors', () => {
    const root = tempDir();
    // 150 levels hold 150 fds at the deepest; with 80 allowed the walk cannot get there.
    sh('p=d; for i in $(seq 150); do p=$p/d; done; mkdir -p $p; setfattr -n user.x -v 1 $p', root);
    const addon = join(import.meta.dirname, '..', '..', 'build', 'Release', 'tsbuild_native.node');
    const script = `require(${JSON.stringify(addon)}).readXattrs(${JSON.stringify(root)}).then(
      (b) => console.log('read', b.length), (e) => console.log('failed', e.errno, e.message))`;
    const limited = execFileSync('bash', ['-c', 'ulimit -n 80; exec node -e "$1"', 'bash', script], {
      encoding: 'utf8',
    });
    expect(limited).toMatch(/^failed 24 .*Too many open files/);
    const unlimited = execFileSync('node', ['-e', script], { encoding: 'utf8' });
    expect(unlimited).toMatch(/^read [1-9]/);
  });

  it('reads a tree deeper than PATH_MAX (getfattr -R does not)', async () => {
    const root = tempDir();
    const seg = 'd'.repeat(200);
    // 25 levels of 201 bytes: ~5,000 bytes of path, past Linux's 4,096.
    sh(
      `for i in $(seq 25); do mkdir ${seg}; cd ${seg}; done; echo deep > f; setfattr -n user.deep -v 1 f`,
      root,
    );
    const found = await readXattrs(root).finally(() => sh(`rm -rf ${seg}`, root));
    const rel = `${Array(25).fill(seg).join('/')}/f`;
    expect(found.get(rel)?.map(([n]) => n)).toEqual(['user.deep']);
  });
});

describe('with TSBUILD_NO_NATIVE=1', () => {
  useNativeSetting('1');
  it('the addon is not used', () => {
    expect(nativeCalls()).toBeUndefined();
  });
});
