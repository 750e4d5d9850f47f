import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushMultiPlatform } from '../helpers/multi-platform.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

requireRoot();
requireBinary('skopeo');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});

describe('a multi-platform base image', () => {
  it('builds for each --platform from one store, pulling the platform it lacks; the image takes the normalized platform', () => {
    const image = pushMultiPlatform(reg, 'multi/base:1', [
      { architecture: 'amd64' },
      { architecture: 'arm64', variant: 'v8' },
      { architecture: 'arm', variant: 'v7' },
    ]);
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-e2e-multi-ctx-'));
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${image}\nCOPY Dockerfile /df\n`);
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-multi-root-'));
    const configOf = (platform?: string) => {
      const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-multi-out-'));
      const r = spawnSync(
        'node',
        [
          bin,
          'build',
          '--root',
          root,
          ...(platform ? ['--platform', platform] : []),
          '-o',
          `type=oci,dest=${out}/i.tar`,
          ctx,
        ],
        { encoding: 'utf8' },
      );
      expect(r.stderr).not.toMatch(/ERROR|IMAGE_INCOMPLETE/);
      expect(r.status).toBe(0);
      execFileSync('tar', ['-xf', join(out, 'i.tar'), '-C', out]);
      const blob = (d: string) => JSON.parse(readFileSync(join(out, 'blobs', 'sha256', d.slice(7)), 'utf8'));
      const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
      const config = blob(blob(index.manifests[0].digest).config.digest);
      return [config.architecture, config.variant ?? '', config.config.Env[0]];
    };
    expect(configOf()).toEqual(['amd64', '', 'ARCH=amd64']);
    // The tag is local now, as an index whose other platforms were never fetched.
    expect(configOf('linux/arm64')).toEqual(['arm64', '', 'ARCH=arm64']);
    expect(configOf('linux/arm/v7')).toEqual(['arm', 'v7', 'ARCH=arm']);
    expect(configOf()).toEqual(['amd64', '', 'ARCH=amd64']);
  });

  it('a local single-platform image of another platform is not used: the registry is asked again (as dockerd does)', () => {
    const multi = pushMultiPlatform(reg, 'multi/src:1', [
      { architecture: 'amd64' },
      { architecture: 'arm64', variant: 'v8' },
    ]);
    const single = `${reg.host}/single/base:1`;
    const copyArch = (arch: string) =>
      execFileSync('skopeo', [
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        '--override-arch',
        arch,
        `docker://${multi}`,
        `docker://${single}`,
      ]);
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-e2e-single-ctx-'));
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${single}\nCOPY Dockerfile /df\n`);
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-single-root-'));
    const build = (platform?: string) => {
      const iid = join(ctx, 'iid');
      const r = spawnSync(
        'node',
        [bin, 'build', '--root', root, ...(platform ? ['--platform', platform] : []), '--iidfile', iid, ctx],
        { encoding: 'utf8' },
      );
      expect(r.stderr).not.toMatch(/ERROR/);
      expect(r.status).toBe(0);
      const inspect = spawnSync('node', [bin, 'inspect', '--root', root, readFileSync(iid, 'utf8').trim()], {
        encoding: 'utf8',
      });
      return JSON.parse(inspect.stdout).Architecture;
    };
    copyArch('arm64');
    expect(build('linux/arm64')).toBe('arm64');
    // The tag now names an amd64 image in the registry; the local one is arm64.
    copyArch('amd64');
    expect(build()).toBe('amd64');
  });
});
