import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tar } from '../helpers/raw-tar.js';
import { pushBusyboxWithLayer, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

requireRoot();
requireBinary('runc');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const marker = `tsb-hostile-${process.pid}-${Date.now()}`;

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});

/** `FROM <image>` plus a RUN, through the CLI (dist/: layers unpack in the worker as they download). */
function buildFrom(image: string): { status: number | null; stderr: string; out: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-hostile-root-'));
  const ctx = mkdtempSync(join(tmpdir(), 'tsb-e2e-hostile-ctx-'));
  const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-hostile-out-'));
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${image}\nRUN ls / > /ls.txt\n`);
  const r = spawnSync(
    'node',
    [bin, 'build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${out}`, ctx],
    {
      encoding: 'utf8',
    },
  );
  return { status: r.status, stderr: r.stderr, out, root };
}

function expectStoreClean(root: string): void {
  const r = spawnSync('node', [bin, 'fsck', '--root', root], { encoding: 'utf8' });
  expect(r.stdout).toMatch(/: ok$/m);
  expect(r.status).toBe(0);
}

function expectHostUntouched(): void {
  for (const p of [`/tmp/${marker}`, `/${marker}`, `/etc/${marker}`, join(tmpdir(), marker)])
    expect(existsSync(p), p).toBe(false);
}

describe('hostile base images pulled from a registry', () => {
  it('symlinks out of the layer resolve inside the rootfs, as containerd apply does', () => {
    const image = pushBusyboxWithLayer(
      reg,
      'hostile/links:1',
      tar([
        { path: 'evil', type: 'SymbolicLink', linkpath: '/' },
        { path: `evil/tmp/${marker}`, body: 'abs' },
        { path: 'rel', type: 'SymbolicLink', linkpath: '../../../../../../etc' },
        { path: `rel/${marker}`, body: 'rel' },
        { path: `/tmp/${marker}-abs`, body: 'leading slash' },
      ]),
    );
    const r = buildFrom(image);
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.status).toBe(0);
    expectHostUntouched();
    expect(readFileSync(join(r.out, 'tmp', marker), 'utf8')).toBe('abs');
    expect(readFileSync(join(r.out, 'etc', marker), 'utf8')).toBe('rel');
    expect(readFileSync(join(r.out, 'tmp', `${marker}-abs`), 'utf8')).toBe('leading slash');
    expectStoreClean(r.root);
  });

  it.each([
    ['a name that climbs out', [{ path: `../../../../tmp/${marker}`, body: 'x' }], /LAYER_UNSAFE/],
    [
      'a hard link to a host file',
      [{ path: 'shadow', type: 'Link', linkpath: '/etc/shadow' }],
      /LAYER_INVALID/,
    ],
    ['a whiteout of ".."', [{ path: 'bin/.wh...', body: '' }], /LAYER_UNSAFE/],
  ])(
    '%s: the build fails saying so, nothing is written, the store stays consistent',
    (_what, entries, code) => {
      const image = pushBusyboxWithLayer(
        reg,
        `hostile/refused-${Math.random().toString(36).slice(2, 8)}:1`,
        tar(entries),
      );
      const r = buildFrom(image);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(code);
      expectHostUntouched();
      expectStoreClean(r.root);
    },
  );

  it('an opaque whiteout at the layer root hides nothing, as overlayfs ignores it (RUN and export agree)', () => {
    const image = pushBusyboxWithLayer(
      reg,
      'hostile/opaque-root:1',
      tar([
        { path: '.wh..wh..opq', body: '' },
        { path: 'keep', body: 'k' },
      ]),
    );
    const r = buildFrom(image);
    expect(r.status).toBe(0);
    const seen = readFileSync(join(r.out, 'ls.txt'), 'utf8').split('\n');
    expect(seen).toContain('bin');
    expect(seen).toContain('keep');
    expect(existsSync(join(r.out, 'bin', 'busybox'))).toBe(true);
  });

  it('whiteouts of nothing are not content: COPY --from neither copies them nor trips over them', () => {
    const image = pushBusyboxWithLayer(
      reg,
      'hostile/whiteouts-of-nothing:1',
      tar([
        // a dir over busybox's bin/zcat symlink (overlayfs lists, but hides, the whiteout in it)
        { path: 'bin/zcat/', type: 'Directory' },
        { path: 'bin/zcat/.wh.x', body: '' },
        { path: 'bin/zcat/y', body: 'y' },
        // a dir nothing below has: read straight from the layer
        { path: 'd/', type: 'Directory' },
        { path: 'd/.wh.f', body: '' },
        { path: 'd/g', body: 'g' },
      ]),
    );
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-hostile-root-'));
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-e2e-hostile-ctx-'));
    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-hostile-out-'));
    writeFileSync(
      join(ctx, 'Dockerfile'),
      `FROM ${image} AS img\nFROM ${image}\nCOPY --from=img /bin/zcat /z/\nCOPY --from=img /d /d2/\n`,
    );
    const r = spawnSync(
      'node',
      [bin, 'build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${out}`, ctx],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.status).toBe(0);
    expect(readdirSync(join(out, 'z'))).toEqual(['y']);
    expect(readdirSync(join(out, 'd2'))).toEqual(['g']);
    expectStoreClean(root);
  });

  it('a parent the layer implies over a lower symlink or file is a dir: RUN and the local export agree', () => {
    const image = pushBusyboxWithLayer(
      reg,
      'hostile/implied-parents:1',
      tar([
        // busybox's bin/zcat is a symlink to /bin/busybox, a file: no dir entry for either here
        { path: 'bin/zcat/y', body: 'y' },
        { path: 'bin/gzip/.wh.nothing', body: '' },
      ]),
    );
    const r = buildFrom(image);
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.status).toBe(0);
    expect(readdirSync(join(r.out, 'bin', 'zcat'))).toEqual(['y']);
    expect(readdirSync(join(r.out, 'bin', 'gzip'))).toEqual([]);
    // The one it would have written through, had the export followed the symlink, is untouched.
    expect(readFileSync(join(r.out, 'bin', 'busybox')).length).toBeGreaterThan(100_000);
    expectStoreClean(r.root);
  });

  it('a config field of the wrong type fails at FROM, naming it, and stores nothing broken', () => {
    const image = pushBusyboxWithLayer(
      reg,
      'hostile/config-types:1',
      tar([{ path: 'f', body: 'f' }]),
      (c) => {
        (c.config as Record<string, unknown>).Env = 'PATH=/bin';
      },
    );
    const r = buildFrom(image);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /invalid image config: config\.Env is "PATH=\/bin", where a list of strings belongs/,
    );
    expect(r.stderr).toMatch(/Dockerfile:1/);
    expectStoreClean(r.root);
  });
});
