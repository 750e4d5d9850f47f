import { execFileSync } from 'node:child_process';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveChown, resolveUserOwner } from '../../src/solver/ops/chown.js';
import { writeInline } from '../../src/solver/ops/copy-sources.js';
import { copyInto } from '../../src/solver/ops/copy-tree.js';
import { type DestFs, mkdirDirect, placeDest } from '../../src/solver/ops/direct-fs.js';
import { MergedRoot, NeedsMount } from '../../src/solver/ops/merged-root.js';

// Writes straight into an upper must leave the merged tree a mounted write leaves: each case runs
// both ways on the same lowers and compares what overlayfs shows.
const tmp = mkdtempSync(join(tmpdir(), 'tsb-direct-fs-'));
const isRoot = process.getuid?.() === 0;
afterAll(() => {
  for (const m of mounted) execFileSync('umount', [m]);
  rmSync(tmp, { recursive: true, force: true });
});
const mounted: string[] = [];

function lowers(): string[] {
  const l1 = join(tmp, 'l1');
  const l2 = join(tmp, 'l2');
  if (mkdirOnce(l2)) {
    mkdirSync(join(l2, 'etc'));
    writeFileSync(join(l2, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n');
    mkdirSync(join(l2, 'app'), { mode: 0o750 });
    chownSync(join(l2, 'app'), 5, 6);
    mkdirSync(join(l2, 'usr/bin'), { recursive: true });
    writeFileSync(join(l2, 'usr/bin/tool'), 'old');
    symlinkSync('/app', join(l2, 'link'));
    mkdirSync(join(l2, 'data/sub'), { recursive: true });
    writeFileSync(join(l2, 'data/old'), 'old');
    mkdirSync(join(l2, 'gone'));
    writeFileSync(join(l2, 'gone/hidden'), 'hidden');
  }
  if (mkdirOnce(l1)) {
    mkdirSync(join(l1, 'usr'));
    execFileSync('mknod', [join(l1, 'gone'), 'c', '0', '0']);
  }
  return [l1, l2];
}

function mkdirOnce(d: string): boolean {
  try {
    mkdirSync(d);
    return true;
  } catch {
    return false;
  }
}

function source(): string {
  const s = join(tmp, 'src');
  if (mkdirOnce(s)) {
    mkdirSync(join(s, 'd'));
    writeFileSync(join(s, 'd/f'), 'f');
    writeFileSync(join(s, 'old'), 'new');
    writeFileSync(join(s, 'tool'), 'new tool');
  }
  return s;
}

let n = 0;
function overlay(upper: string, low: string[], ro = false): string {
  const m = join(tmp, `m${n++}`);
  mkdirSync(m);
  const work = `${upper}.work`;
  mkdirSync(work, { recursive: true });
  const opts = ro
    ? `lowerdir=${[upper, ...low].join(':')}`
    : `lowerdir=${low.join(':')},upperdir=${upper},workdir=${work},index=off,redirect_dir=off,metacopy=off`;
  execFileSync('mount', ['-t', 'overlay', 'overlay', m, '-o', opts]);
  mounted.push(m);
  return m;
}

function listing(dir: string): string {
  return execFileSync('bash', ['-c', `cd ${dir} && find . -printf '%p %m %U %G %y %s %l\\n' | sort`], {
    encoding: 'utf8',
  });
}

/** Runs `write` mounted and direct; returns the two merged listings. */
async function both(write: (d: DestFs) => void | Promise<void>): Promise<[string, string]> {
  const low = lowers();
  const upA = join(tmp, `upA${n}`);
  const upB = join(tmp, `upB${n}`);
  mkdirSync(upA);
  mkdirSync(upB);
  const m = overlay(upA, low);
  await write({ root: m, etc: m });
  const merged = new MergedRoot([upB, ...low], true);
  await write({ root: upB, etc: (p) => merged.hostOf(p), merged });
  return [listing(overlay(upA, low, true)), listing(overlay(upB, low, true))];
}

const copy =
  (src: string, children: string[] | undefined, dest: string, isDir: boolean) => async (d: DestFs) => {
    const top = () => (children ?? []).filter((c) => !c.includes('/'));
    const to = placeDest(d, dest, false, { isDir, base: src.split('/').pop() as string, top });
    if (to !== undefined) await copyInto(src, children, d.root, to, false, { preserveOwner: false });
  };

describe.skipIf(!isRoot)('direct writes into an upper match mounted ones', () => {
  it('a directory into a new path under an existing dir (copied up with its mode and owner)', async () => {
    const [a, b] = await both(copy(join(source(), 'd'), ['f'], '/app/new', true));
    expect(b).toBe(a);
    expect(b).toContain('./app 750 5 6 d');
  });

  it('an empty directory into an existing one writes nothing: the dir stays out of the layer (BuildKit)', async () => {
    const empty = join(tmp, 'empty-src');
    mkdirSync(empty, { recursive: true });
    const [a, b] = await both(copy(empty, [], '/data/', true));
    expect(b).toBe(a);
    const low = lowers();
    const up = join(tmp, 'upEmpty');
    mkdirSync(up);
    const merged = new MergedRoot([up, ...low], true);
    expect(
      placeDest({ root: up, etc: (p) => merged.hostOf(p), merged }, '/data/', false, {
        isDir: true,
        base: 'empty-src',
        top: () => [],
      }),
    ).toBeUndefined();
    expect(readdirSync(up)).toEqual([]);
  });

  it('copied-up ancestors keep their times; only the new entry dates its parent', async () => {
    const low = lowers();
    execFileSync('touch', [
      '-d',
      '@1000000000',
      join(low[1] as string, 'data'),
      join(low[1] as string, 'data/sub'),
    ]);
    const up = join(tmp, 'upT');
    mkdirSync(up);
    const merged = new MergedRoot([up, ...low], true);
    const d: DestFs = { root: up, etc: (p) => merged.hostOf(p), merged };
    const to = placeDest(d, '/data/sub/new', false, { isDir: true, base: 'd', top: () => ['f'] });
    await copyInto(join(source(), 'd'), ['f'], up, to!, false, { preserveOwner: false });
    expect(statSync(join(up, 'data')).mtimeMs).toBe(1000000000000);
    expect(statSync(join(up, 'data/sub')).mtimeMs).toBeGreaterThan(1000000000000);
  });

  it('a file through a symlinked directory, and a file over a lower file', async () => {
    const [a, b] = await both(async (d) => {
      await copy(join(source(), 'tool'), undefined, '/link/', false)(d);
      await copy(join(source(), 'old'), undefined, '/data/old', false)(d);
    });
    expect(b).toBe(a);
    expect(b).toContain('./app/tool');
    expect(b).toContain('./data/old 644 0 0 f 3');
  });

  it('a directory where a lower layer whited the path out', async () => {
    const [a, b] = await both(copy(join(source(), 'd'), ['f'], '/gone', true));
    expect(b).toBe(a);
    expect(b).not.toContain('hidden');
  });

  it('a heredoc file into an existing dir and over a lower file', async () => {
    const inline = (dest: string, name: string) =>
      ({ type: 'inline', dest, name, data: 'hello\n', chmod: '0755' }) as Parameters<typeof writeInline>[0];
    const [a, b] = await both((d) => {
      writeInline(inline('/link/', 'h.sh'), d, { uid: 3, gid: 4 });
      writeInline(inline('/data/old', 'x'), d);
    });
    expect(b).toBe(a);
    expect(b).toContain('./app/h.sh 755 3 4 f 6');
  });

  it('WORKDIR-style MkdirAll with an owner', async () => {
    const [a, b] = await both((d) => {
      if (d.merged) mkdirDirect(d.merged, '/link/x/y', { uid: 1000, gid: 1001 });
      else execFileSync('bash', ['-c', `mkdir -p ${d.root}/app/x/y && chown -R 1000:1001 ${d.root}/app/x`]);
    });
    expect(b).toBe(a);
  });

  it('stage files are hard links (owner and mode kept); a second path to one inode is a copy', async () => {
    const stage = join(tmp, 'stage');
    mkdirSync(join(stage, 'sub'), { recursive: true });
    writeFileSync(join(stage, 'sub/f'), 'x');
    const out = join(tmp, 'linked');
    mkdirSync(out);
    const linkFrom = new Set<string>();
    await copyInto(stage, undefined, out, '/a', false, { preserveOwner: true, linkFrom });
    await copyInto(join(stage, 'sub'), undefined, out, '/b', false, { preserveOwner: true, linkFrom });
    await copyInto(join(stage, 'sub'), undefined, out, '/c', false, {
      preserveOwner: false,
      owner: { uid: 7, gid: 7 },
    });
    const ino = statSync(join(stage, 'sub/f')).ino;
    expect(statSync(join(out, 'a/sub/f')).ino).toBe(ino);
    expect(statSync(join(out, 'b/f')).ino).not.toBe(ino);
    expect(statSync(join(out, 'c/f')).uid).toBe(7);
  });

  it('dirs keep mode and owner whether chown/chmod were needed or not (setgid parent, umask)', async () => {
    const t = join(tmp, 'modes');
    mkdirSync(join(t, 'sg/inner'), { recursive: true });
    mkdirSync(join(t, 'open'));
    execFileSync('chmod', ['2755', join(t, 'sg')]);
    execFileSync('chmod', ['0750', join(t, 'sg/inner')]);
    execFileSync('chmod', ['0777', join(t, 'open')]);
    chownSync(join(t, 'sg'), 0, 5);
    const out = join(tmp, 'modes-out');
    mkdirSync(out);
    await copyInto(t, undefined, out, '/m', false, { preserveOwner: true });
    const mode = (p: string) => (statSync(join(out, 'm', p)).mode & 0o7777).toString(8);
    expect([mode('sg'), mode('sg/inner'), mode('open')]).toEqual(['2755', '750', '777']);
    expect([statSync(join(out, 'm/sg')).gid, statSync(join(out, 'm/sg/inner')).gid]).toEqual([5, 0]);
  });

  it('a directory merging with a lower one needs the mount', async () => {
    const low = lowers();
    const up = join(tmp, 'upC');
    mkdirSync(up);
    const merged = new MergedRoot([up, ...low], true);
    const d: DestFs = { root: up, etc: (p) => merged.hostOf(p), merged };
    expect(() => placeDest(d, '/data', false, { isDir: true, base: 'src', top: () => ['old'] })).toThrow(
      NeedsMount,
    );
    // usr/bin is in l2 only, below l1's usr: whether l1's usr is opaque is an xattr Node cannot read
    expect(() => placeDest(d, '/usr/bin/', false, { isDir: false, base: 'tool', top: () => [] })).toThrow(
      NeedsMount,
    );
    // WORKDIR under a numeric USER: gid = uid, whatever passwd says (BuildKit's llb.WithUser)
    expect(resolveUserOwner(d.etc, '1000')).toEqual({ uid: 1000, gid: 1000 });
    // a named --chown user gets its primary gid (1001), as BuildKit does
    expect(resolveChown(d.etc, 'app')).toEqual({ uid: 1000, gid: 1001 });
    expect(merged.hostOf('/etc/passwd')).toBe(join(low[1] as string, 'etc/passwd'));
  });
});
