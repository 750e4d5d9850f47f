import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext } from './helpers.js';

requireRoot();
requireBinary('runc');

// BuildKit's own test of `--exclude` (frontend/dockerfile/dockerfile_excludepatterns_test.go,
// testExcludedFilesOnCopy, moby/buildkit#4439), with its files, Dockerfile and expectations: the
// patterns apply below each source (a directory's contents, each directory a wildcard matched).
// BuildKit runs it on the context and on a stage (a git checkout there; a COPY of the context here).

const FILES = {
  'dir1/file-101.png': '2',
  'dir1/file-102.txt': '3',
  'dir1/file-103.jpeg': '4',
  'dir2/file-201.pdf': '6',
  'dir2/file-202.jpeg': '7',
  'dir2/file-203.png': '8',
  'dir3/file-301.mp3': '9',
  'dir3/file-302.mpeg': '10',
};

function stages(from: string, add: string): string {
  return `FROM scratch AS builder1
COPY ${from}--exclude=*/*.png --exclude=*/*.jpeg . /1
FROM scratch AS builder2
COPY ${from}--exclude=*/*.pdf --exclude=*/*.txt . /2
FROM scratch AS builder3
${add} ${from}--exclude=*.mp3 dir3/ /3/
FROM scratch AS builder4
COPY ${from}--exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt dir* /4/
FROM scratch AS builder5
${add} ${from}--exclude=*.mp* --exclude=*.jpeg --exclude=*.png --exclude=*.pdf dir* /5
FROM scratch AS builder6
${add} ${from}--exclude=* dir* /6
FROM scratch
${[1, 2, 3, 4, 5, 6].map((i) => `COPY --from=builder${i} / /builder${i}`).join('\n')}
`;
}

/** Every file of the rootfs, as `path=content`. */
function files(rootfs: string): string[] {
  return readdirSync(rootfs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(rootfs.length + 1))
    .filter((p) => p.startsWith('builder'))
    .sort();
}

const EXPECTED = [
  'builder1/1/dir1/file-102.txt',
  'builder1/1/dir2/file-201.pdf',
  'builder1/1/dir3/file-301.mp3',
  'builder1/1/dir3/file-302.mpeg',
  'builder2/2/dir1/file-101.png',
  'builder2/2/dir1/file-103.jpeg',
  'builder2/2/dir2/file-202.jpeg',
  'builder2/2/dir2/file-203.png',
  'builder2/2/dir3/file-301.mp3',
  'builder2/2/dir3/file-302.mpeg',
  'builder3/3/file-302.mpeg',
  'builder4/4/file-302.mpeg',
  'builder5/5/file-102.txt',
];

describe('COPY/ADD --exclude (BuildKit testExcludedFilesOnCopy)', () => {
  it('from the context', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-exclude-'));
    const ctx = makeContext({ ...FILES, '.dockerignore': 'Dockerfile\n.dockerignore\n' });
    const r = await buildIt(root, ctx, stages('', 'ADD'));
    expect(files(r.rootfs)).toEqual(EXPECTED);
    // everything excluded: the destination is made, empty
    expect(readdirSync(join(r.rootfs, 'builder6/6'))).toEqual([]);
  });

  it('from a stage', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-exclude-'));
    const ctx = makeContext({ ...FILES, '.dockerignore': 'Dockerfile\n.dockerignore\n' });
    const r = await buildIt(root, ctx, `FROM scratch AS base\nCOPY . /\n${stages('--from=base ', 'COPY')}`);
    expect(files(r.rootfs)).toEqual(EXPECTED);
    expect(readdirSync(join(r.rootfs, 'builder6/6'))).toEqual([]);
  });
});
