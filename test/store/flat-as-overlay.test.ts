import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { extractLayer } from '../../src/store/index.js';
import { type RawEntry, tar } from '../helpers/raw-tar.js';
import { requireRoot } from '../helpers/require.js';
import { sh, tempDir, treeListing } from './helpers.js';

requireRoot();

/**
 * Flat mode (`--output type=local|tar` of an image, the copying snapshotter) must give the tree an
 * overlay mount of the same layers shows: that is what every RUN sees, what BuildKit exports and
 * what dockerd's layer store makes. The oracle is a real overlayfs mount of the layers unpacked in
 * overlay mode, each into a dir of its own.
 */
async function flatAndOverlay(layers: RawEntry[][]): Promise<{ flat: string; overlay: string }> {
  const dir = tempDir('tsb-flat-ovl-');
  const flat = join(dir, 'flat');
  mkdirSync(flat);
  const lowers: string[] = [];
  for (const [i, entries] of layers.entries()) {
    await extractLayer(Readable.from([tar(entries)]), flat, { mode: 'flat', devices: 'create' });
    const l = join(dir, `l${i}`);
    mkdirSync(l);
    await extractLayer(Readable.from([tar(entries)]), l, { mode: 'overlay', devices: 'create' });
    lowers.unshift(l);
  }
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  // A read-only overlay of lowerdirs alone needs two of them; an empty one on top is neutral.
  mkdirSync(join(dir, 'top'));
  sh(`mount -t overlay overlay -o lowerdir=${[join(dir, 'top'), ...lowers].join(':')} "${mnt}"`);
  try {
    return { flat: treeListing(flat), overlay: treeListing(mnt) };
  } finally {
    sh(`umount "${mnt}"`);
  }
}

const dir = (path: string, mode = 0o755): RawEntry => ({ path, type: 'Directory', mode });
const file = (path: string, body = path): RawEntry => ({ path, body });
const link = (path: string, linkpath: string): RawEntry => ({ path, type: 'SymbolicLink', linkpath });
const fifo = (path: string): RawEntry => ({ path, type: 'FIFO' });
const wh = (path: string): RawEntry => ({ path, body: '' });

describe('flat mode applies a layer as overlayfs stacks it', () => {
  const cases: [string, RawEntry[][]][] = [
    [
      'a parent that is a lower symlink is a new dir, not followed',
      [[dir('etc'), file('etc/e'), link('d', '/etc')], [file('d/x')]],
    ],
    [
      'a whiteout under a lower symlink deletes nothing through it',
      [
        [dir('etc'), file('etc/e'), link('d', 'etc'), dir('m', 0o700), file('m/k'), file('m/j')],
        [wh('d/.wh.e'), wh('m/.wh.j')],
      ],
    ],
    [
      'a parent that is a lower FIFO or file is a new dir',
      [
        [fifo('q'), file('f'), fifo('p')],
        [wh('q/sub/.wh.z'), wh('q/.wh..wh..opq'), file('f/g')],
      ],
    ],
    [
      'an implied parent gives a lower dir its mode; a listed one its own',
      [
        [dir('o', 0o700), file('o/e'), dir('n', 0o711), file('n/e')],
        [file('o/f'), file('n/f'), dir('n', 0o750)],
      ],
    ],
    [
      "the layer's own symlinks are followed, to a lower symlink made a dir",
      [
        [dir('etc'), file('etc/e'), link('d', 'etc')],
        [link('l', '/d'), file('l/y')],
      ],
    ],
    [
      'three layers: a dir made over a lower symlink, then written through again',
      [[dir('etc'), file('etc/e'), link('d', '/etc')], [file('d/x')], [file('d/y'), wh('etc/.wh.e')]],
    ],
  ];
  for (const [name, layers] of cases) {
    it(name, async () => {
      const { flat, overlay } = await flatAndOverlay(layers);
      expect(flat).toBe(overlay);
      expect(flat).not.toBe('');
    });
  }

  it('with a set time (SOURCE_DATE_EPOCH), the dirs a layer implies or takes over carry it too', async () => {
    const root = tempDir('tsb-flat-epoch-');
    const opts = { mode: 'flat', mtime: 1_000_000 } as const;
    await extractLayer(Readable.from([tar([dir('o', 0o700), file('o/e'), link('d', 'o')])]), root, opts);
    await extractLayer(Readable.from([tar([file('o/f'), file('d/x'), file('n/m/k')])]), root, opts);
    expect(sh(`cd "${root}" && find . -mindepth 1 -type d -printf '%p %m %T@\\n' | sort`)).toBe(
      './d 755 1000000.0000000000\n./n 755 1000000.0000000000\n./n/m 755 1000000.0000000000\n./o 755 1000000.0000000000\n',
    );
  });

  it('a hard link to a lower layer file is refused, as in a layer dir of its own', async () => {
    const root = tempDir('tsb-flat-link-');
    await extractLayer(Readable.from([tar([file('f')])]), root, { mode: 'flat' });
    await expect(
      extractLayer(Readable.from([tar([{ path: 'h', type: 'Link', linkpath: 'f' }])]), root, {
        mode: 'flat',
      }),
    ).rejects.toMatchObject({ code: 'LAYER_INVALID' });
  });
});
