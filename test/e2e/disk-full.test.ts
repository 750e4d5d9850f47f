import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderError } from '../../src/cli/render-error.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

requireRoot();
requireBinary('runc');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');

describe('a full disk', () => {
  // The store on a 24 MiB tmpfs: a RUN's 14 MB file fits, its layer (another 14 MB) does not.
  const mnt = mkdtempSync(join(tmpdir(), 'tsb-e2e-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]);
  afterAll(() => {
    spawnSync('umount', ['-l', mnt]);
  });
  const root = join(mnt, 'root');
  const tsbuild = (ctx: string, ...args: string[]) =>
    spawnSync('node', [bin, 'build', '--root', root, '--progress', 'plain', ...args, ctx], {
      encoding: 'utf8',
    });

  it('fails with NO_SPACE and a hint, the store stays consistent, and a smaller build then works', () => {
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-e2e-full-ctx-'));
    copyFileSync('/bin/busybox', join(ctx, 'busybox'));
    writeFileSync(
      join(ctx, 'Dockerfile'),
      'FROM scratch\nCOPY busybox /bin/sh\nCOPY busybox /bin/busybox\nRUN busybox head -c 14000000 /dev/zero > /f\n',
    );
    const full = tsbuild(ctx);
    expect(full.status).toBe(1);
    expect(full.stderr).toMatch(/no space left on device.*\[NO_SPACE\]/);
    expect(full.stderr).toMatch(/^hint: .*tsbuild prune/m);
    expect(full.stderr).not.toMatch(/\n\s+at /);
    const fsck = spawnSync('node', [bin, 'fsck', '--root', root], { encoding: 'utf8' });
    expect(fsck.stdout + fsck.stderr).toMatch(/: ok/);
    expect(fsck.status).toBe(0);
    const small = mkdtempSync(join(tmpdir(), 'tsb-e2e-full-ctx-'));
    mkdirSync(join(small, 'd'));
    writeFileSync(join(small, 'd', 'f'), 'x');
    writeFileSync(join(small, 'Dockerfile'), 'FROM scratch\nCOPY d /d\n');
    const ok = tsbuild(small, '-t', 'small');
    expect(ok.stderr).not.toMatch(/error/);
    expect(ok.status).toBe(0);
  });

  it('renders ENOSPC anywhere in the cause chain as NO_SPACE', () => {
    const errno = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const wrapped = new Error('writing the layer failed', { cause: errno });
    expect(renderError(wrapped, { debug: false })).toMatch(/\[NO_SPACE\]\nhint: /);
    expect(renderError(new Error('other'), { debug: false })).toBe('error: other');
  });
});
