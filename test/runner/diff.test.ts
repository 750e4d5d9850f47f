import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runContainer } from '../../src/runner/index.js';
import { type Fixture, listTree, makeFixture, mountsMentioning, sh } from './fixture.js';

let fx: Fixture;
fx = makeFixture();
afterAll(() => fx.cleanup());

/** A second lower on top of busybox with files to delete. */
function dataLower(): string {
  const d = join(fx.dir, 'data-lower');
  mkdirSync(join(d, 'data'), { recursive: true });
  mkdirSync(join(d, 'olddir/sub'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(d, 'data', `f${i}`), `v${i}`);
  writeFileSync(join(d, 'olddir/sub/x'), 'x');
  writeFileSync(join(d, 'keep'), 'keep');
  return d;
}

describe('the upper dir is exactly the step’s diff', () => {
  it('10,000 new files, deleted lower files and dirs (whiteouts), nothing else', async () => {
    const lower = dataLower();
    const r = await sh(
      fx,
      [
        'mkdir /new && cd /new',
        'i=0; while [ $i -lt 10000 ]; do echo $i > f$i; i=$((i+1)); done',
        'rm /data/f1 /data/f2',
        'rm -rf /olddir',
        'echo changed > /data/f3',
        'mkdir -p /etc && echo x > /etc/new.conf',
      ].join(' && '),
      { lowers: [lower, fx.lower] },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const tree = listTree(r.upper);
    const news = tree.filter((p) => p.startsWith('new/'));
    expect(news).toHaveLength(10_000);
    expect(readFileSync(join(r.upper, 'new/f9999'), 'utf8')).toBe('9999\n');
    const rest = tree.filter((p) => !p.startsWith('new/'));
    expect(rest).toEqual(['data', 'data/f1', 'data/f2', 'data/f3', 'etc', 'etc/new.conf', 'new', 'olddir']);
    for (const w of ['data/f1', 'data/f2', 'olddir']) {
      const st = lstatSync(join(r.upper, w));
      expect(st.isCharacterDevice(), w).toBe(true);
      expect(st.rdev, w).toBe(0);
    }
    expect(readFileSync(join(r.upper, 'data/f3'), 'utf8')).toBe('changed\n');
  });

  it('a mount target under an existing dir leaves neither the stub nor a copied-up parent', async () => {
    const lower = join(fx.dir, 'srv-lower');
    mkdirSync(join(lower, 'srv/app'), { recursive: true });
    writeFileSync(join(lower, 'srv/app/main'), 'x');
    const r = await sh(fx, 'echo scratch > /srv/app/tmp/x && ls /srv/app', {
      lowers: [lower, fx.lower],
      mounts: [{ type: 'tmpfs', target: '/srv/app/tmp' }],
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('main\ntmp\n');
    expect(listTree(r.upper)).toEqual([]);
  });

  it('stubs under a dir the image has (/etc) leave no copied-up /etc behind', async () => {
    const r = await sh(fx, 'cat /etc/resolv.conf >/dev/null; test -f /etc/passwd');
    expect(r.exitCode).toBe(0);
    expect(listTree(r.upper)).toEqual([]);
  });

  it('a bind-mounted root (copy snapshotter) and a plain dir root: same result, stubs removed', async () => {
    for (const kind of ['bind', 'dir'] as const) {
      const tree = join(fx.dir, `tree-${kind}`);
      execFileSync('cp', ['-a', `${fx.lower}/.`, tree]);
      const before = listTree(tree);
      const rootfs =
        kind === 'bind'
          ? { mounts: [{ type: 'bind' as const, source: tree, options: ['rbind', 'rw'] }] }
          : { dir: tree };
      const r = await runContainer({
        root: fx.root,
        rootfs,
        process: { args: ['/bin/sh', '-c', 'pwd; echo made > /made'], cwd: '/w' },
      });
      expect(r.exitCode).toBe(0);
      expect(listTree(tree)).toEqual([...before, 'made', 'w'].sort());
      expect(mountsMentioning(tree)).toEqual([]);
    }
  });

  it('the overlay is mounted by runc inside the container: no host mount exists even while it runs', async () => {
    const script = 'sleep 0.5; stat -c "%a %u" /made/here';
    const run = sh(fx, script, { process: { args: ['/bin/sh', '-c', script], cwd: '/made/here' } });
    await new Promise((r) => setTimeout(r, 250));
    expect(mountsMentioning(fx.dir)).toEqual([]);
    const r = await run;
    expect(r.stdout).toBe('755 0\n');
    expect(listTree(r.upper)).toEqual(['made', 'made/here']);
  });

  it('a chain too long for absolute overlay options is mounted on the host (relative, cwd) and unmounted', async () => {
    const base = join(fx.dir, 'chain');
    mkdirSync(join(base, 'layers'), { recursive: true });
    execFileSync('cp', ['-a', fx.lower, join(base, 'layers/bb')]);
    const names: string[] = [];
    for (let i = 0; i < 150; i++) {
      mkdirSync(join(base, 'layers', `${i}`));
      writeFileSync(join(base, 'layers', `${i}`, `f${i}`), `${i}`);
      names.unshift(`layers/${i}`);
    }
    for (const d of ['up', 'wk']) mkdirSync(join(base, d));
    const options = [`lowerdir=${[...names, 'layers/bb'].join(':')}`, 'upperdir=up', 'workdir=wk'];
    expect(options.join(',').replaceAll('layers/', `${base}/layers/`).length).toBeGreaterThan(4096);
    const out: Buffer[] = [];
    const r = await runContainer({
      root: fx.root,
      rootfs: { mounts: [{ type: 'overlay', source: 'overlay', options, cwd: base }] },
      process: { args: ['/bin/sh', '-c', 'cat /f0 /f149; echo new > /new'] },
      onStdout: (c) => out.push(c),
    });
    expect(r.exitCode).toBe(0);
    expect(Buffer.concat(out).toString()).toBe('0149');
    expect(listTree(join(base, 'up'))).toEqual(['new']);
    expect(mountsMentioning(base)).toEqual([]);
  });
});
