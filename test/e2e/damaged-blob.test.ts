import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

requireRoot();
requireBinary('runc');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const tsb = (root: string, ...args: string[]) => {
  const r = spawnSync('node', [bin, ...args.slice(0, 1), '--root', root, ...args.slice(1)], {
    encoding: 'utf8',
  });
  return { ...r, out: r.stdout + r.stderr };
};

/** Flips a byte of file content in the image's biggest layer blob, as a failing disk or a hand edit would. */
function damageBiggestLayer(root: string, manifestDigest: string): string {
  const blob = (d: string) => join(root, 'blobs', 'sha256', d.slice(7));
  const m = JSON.parse(readFileSync(blob(manifestDigest), 'utf8')) as {
    layers: { digest: string; size: number }[];
  };
  const layer = m.layers.reduce((a, b) => (b.size > a.size ? b : a));
  const fd = openSync(blob(layer.digest), 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, 100_000);
  writeSync(fd, Buffer.from([b[0]! ^ 0xff]), 0, 1, 100_000);
  return layer.digest;
}

describe('a blob damaged after its commit never leaves the store', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => reg?.stop());

  it('save, an OCI dir, type=local and push fail with STORE_CORRUPT; fsck --repair and a rebuild heal it', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-damaged-'));
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-e2e-damaged-ctx-'));
    copyFileSync('/bin/busybox', join(ctx, 'busybox'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/sh\nRUN echo x > /x\n');
    const built = tsb(root, 'build', '-q', '-t', 'dmg', ctx);
    expect(built.status, built.out).toBe(0);
    // The tag record (meta/tags, one JSON file per tag) names the manifest.
    const [rec] = readdirSync(join(root, 'meta', 'tags'));
    const tag = JSON.parse(readFileSync(join(root, 'meta', 'tags', rec!), 'utf8'));
    const damaged = damageBiggestLayer(root, tag.target.digest);

    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-damaged-out-'));
    for (const args of [
      ['save', '-o', join(out, 'd.tar'), 'dmg'],
      ['save', '--format', 'oci', '-o', join(out, 'o.tar'), 'dmg'],
      ['save', '-o', `type=oci,dest=${join(out, 'dir')},tar=false`, 'dmg'],
      ['build', '-q', '-o', `type=local,dest=${join(out, 'local')}`, ctx],
      ['push', 'dmg', `${reg.host}/dmg:1`],
    ]) {
      const r = tsb(root, ...args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.out).toContain(`blob ${damaged} is damaged`);
      expect(r.out).toContain('[STORE_CORRUPT]');
      expect(r.out).not.toMatch(/\n\s+at /);
    }
    // Nothing half-written is left where the user asked for output, and the registry has no image.
    expect(existsSync(join(out, 'd.tar'))).toBe(false);
    expect(existsSync(join(out, 'o.tar'))).toBe(false);
    expect(existsSync(join(out, 'dir', 'blobs', 'sha256', damaged.slice(7)))).toBe(false);
    const head = spawnSync('curl', ['-sf', '-o', '/dev/null', `${reg.url}/v2/dmg/manifests/1`]);
    expect(head.status).not.toBe(0);

    expect(tsb(root, 'fsck').status).not.toBe(0);
    expect(tsb(root, 'fsck', '--repair').status).toBe(0);
    const again = tsb(root, 'build', '-q', '-t', 'dmg', ctx);
    expect(again.status, again.out).toBe(0);
    expect(tsb(root, 'save', '-o', join(out, 'd.tar'), 'dmg').status).toBe(0);
    expect(tsb(root, 'fsck').status).toBe(0);
  }, 120_000);

  it("a base image's layer blob gone (fsck --repair removed it): save says so, leaves nothing, and a pull heals it", () => {
    const base = pushBusyboxImage(reg, 'gone/busybox:1');
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-gone-'));
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-e2e-gone-ctx-'));
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base.ref}\nRUN echo x > /x\n`);
    expect(tsb(root, 'build', '-q', '-t', 'gone', ctx).status).toBe(0);
    const blobs = join(root, 'blobs', 'sha256');
    const biggest = readdirSync(blobs).reduce((a, b) =>
      statSync(join(blobs, b)).size > statSync(join(blobs, a)).size ? b : a,
    );
    rmSync(join(blobs, biggest));
    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-gone-out-'));
    const r = tsb(root, 'save', '-o', join(out, 'g.tar'), 'gone');
    expect(r.status).toBe(1);
    expect(r.out).toContain(`blob sha256:${biggest} not found in the content store [BLOB_NOT_FOUND]`);
    expect(r.out).toContain('tsbuild pull');
    expect(r.out).not.toMatch(/\n\s+at |ERR_STREAM_DESTROYED/);
    expect(readdirSync(out)).toEqual([]);
    expect(tsb(root, 'pull', base.ref).status).toBe(0);
    expect(tsb(root, 'save', '-o', join(out, 'g.tar'), 'gone').status).toBe(0);
  }, 120_000);
});
