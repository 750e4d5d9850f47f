import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { ownerInTar } from './helpers.js';

requireRoot();
requireBinary('runc');

// `docker build - < ctx.tar`: BuildKit unpacks a tarball context with the archive's owners (only a
// directory context has them reset to 0 by the docker CLI). Checked against dockerd 20.10's
// BuildKit: COPY and a bind mount of the context show 5:6 for a tar made with --owner=5 --group=6.
const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const root = mkdtempSync(join(tmpdir(), 'tsb-stdin-owners-root-'));

function contextTar(owner: number): Buffer {
  const ctx = mkdtempSync(join(tmpdir(), 'tsb-stdin-owners-ctx-'));
  mkdirSync(join(ctx, 'd'));
  writeFileSync(join(ctx, 'a.txt'), 'a\n');
  writeFileSync(join(ctx, 'd', 'b'), 'b\n');
  copyFileSync('/bin/busybox', join(ctx, 'busybox'));
  writeFileSync(
    join(ctx, 'Dockerfile'),
    'FROM scratch\nCOPY busybox /bin/busybox\nCOPY a.txt d /c/\n' +
      'RUN --mount=type=bind,target=/m ["/bin/busybox", "sh", "-c", "/bin/busybox stat -c %u:%g /m/a.txt /m/d > /mounted"]\n',
  );
  return execFileSync('tar', ['-C', ctx, `--owner=${owner}`, '--group=6', '-cf', '-', '.'], {
    maxBuffer: 1 << 26,
  });
}

function build(input: Buffer) {
  const out = join(mkdtempSync(join(tmpdir(), 'tsb-stdin-owners-out-')), 'fs.tar');
  const r = spawnSync(
    'node',
    [bin, 'build', '--root', root, '--progress', 'plain', '-o', `type=tar,dest=${out}`, '-'],
    {
      input,
      encoding: 'utf8',
    },
  );
  expect(r.stderr).not.toMatch(/ERROR/);
  expect(r.status).toBe(0);
  return { ...r, out };
}

describe('a tarball context on stdin keeps its owners, as BuildKit unpacks it', () => {
  it('COPY and a bind mount show them; another owner is another cache key', () => {
    const one = build(contextTar(5));
    expect(ownerInTar(one.out, 'c/a.txt')).toBe('5:6');
    expect(ownerInTar(one.out, 'c/b')).toBe('5:6');
    expect(execFileSync('tar', ['-xOf', one.out, 'mounted'], { encoding: 'utf8' })).toBe('5:6\n5:6\n');
    const two = build(contextTar(7));
    // the COPY ran again (the file content is the same: only the owners tell the two apart)
    const step = /^(#\d+) \[\d+\/\d+\] COPY a\.txt d/m.exec(two.stderr)?.[1];
    expect(step).toBeDefined();
    expect(two.stderr).not.toContain(`${step} CACHED`);
    expect(one.stderr).not.toContain(`${step} CACHED`);
    expect(build(contextTar(7)).stderr).toContain(`${step} CACHED`);
    expect(ownerInTar(two.out, 'c/a.txt')).toBe('7:6');
    expect(execFileSync('tar', ['-xOf', two.out, 'mounted'], { encoding: 'utf8' })).toBe('7:6\n7:6\n');
  });
});
