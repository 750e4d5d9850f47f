import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';

const _bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

/** The CLI with `env`, and `input` on stdin. */
const run = (env: Record<string, string>, args: string[], input?: string) =>
  runCli(args, { env, ...(input !== undefined ? { input } : {}) });

describe('image commands: pull, images, tag, inspect, save, push, rm, login, logout', () => {
  let reg: TestRegistry;
  let img: ReturnType<typeof pushBusyboxImage>;
  let env: Record<string, string>;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'wonderland' } });
    img = pushBusyboxImage(reg, 'library/busybox:1', 'alice:wonderland');
    env = { TSBUILD_ROOT: tmp('tsb-cli-root-'), DOCKER_CONFIG: tmp('tsb-cli-docker-') };
  });
  afterAll(() => reg?.stop());

  it('pull without login fails with UNAUTHORIZED and exit 1; login with a wrong password fails', async () => {
    const r = await run(env, ['pull', `${reg.host}/library/busybox:1`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[UNAUTHORIZED\]/);
    expect(r.stderr).toMatch(/hint: .*login/);
    const bad = await run(env, ['login', '-u', 'alice', '--password-stdin', reg.host], 'nope\n');
    expect(bad.status).toBe(1);
    expect(existsSync(join(env.DOCKER_CONFIG!, 'config.json'))).toBe(false);
  });

  it('login, pull, images, tag, inspect', async () => {
    const li = await run(env, ['login', '-u', 'alice', '--password-stdin', reg.host], 'wonderland\n');
    expect(li.stdout).toContain('Login Succeeded');
    const cfg = JSON.parse(readFileSync(join(env.DOCKER_CONFIG!, 'config.json'), 'utf8'));
    expect(cfg.auths[reg.host].auth).toBe(Buffer.from('alice:wonderland').toString('base64'));
    const p = await run(env, ['pull', `${reg.host}/library/busybox:1`]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stderr).toContain(`Digest: ${img.manifestDigest}`);
    expect((await run(env, ['tag', `${reg.host}/library/busybox:1`, 'bb:local'])).status).toBe(0);
    const ls = await run(env, ['images']);
    expect(ls.stdout).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE/);
    expect(ls.stdout).toMatch(new RegExp(`bb\\s+local\\s+${img.configDigest.slice(7, 19)}`));
    const only = await run(env, ['images', 'bb']);
    expect(only.stdout.trim().split('\n')).toHaveLength(2);
    expect(only.stdout).not.toContain('library/busybox');
    const ins = JSON.parse((await run(env, ['inspect', 'bb:local'])).stdout);
    expect(ins.Digest).toBe(img.manifestDigest);
    expect(ins.Config.rootfs.diff_ids).toEqual([img.diffId]);
    expect(ins).toMatchObject({
      Architecture: 'amd64',
      Os: 'linux',
      RootFS: { Type: 'layers', Layers: [img.diffId] },
    });
    expect(ins.Manifest.layers[0].digest).toBe(img.layerDigest);
    // as docker's: every tag of the image, short names, whichever one was asked for
    expect(ins.RepoTags).toEqual(['bb:local', `${reg.host}/library/busybox:1`].sort());
    // docker inspect's -f over the same JSON
    const f = await run(env, ['inspect', '-f', '{{.Id}} {{.Architecture}} {{.RootFS.Layers}}', 'bb:local']);
    expect(f.stdout).toBe(`${img.configDigest} amd64 [${img.diffId}]\n`);
  });

  it('save as docker and OCI archives, push under a new name, rm', async () => {
    const out = join(tmp('tsb-cli-save-'), 'bb.tar');
    expect((await run(env, ['save', 'bb:local', '-o', out])).status).toBe(0);
    const mj = JSON.parse(
      (await new Promise<string>((res) => {
        const p = spawn('tar', ['-xOf', out, 'manifest.json']);
        let s = '';
        p.stdout.on('data', (d) => {
          s += d;
        });
        p.on('close', () => res(s));
      })) || '[]',
    );
    expect(mj[0].RepoTags).toEqual(['bb:local']);
    // docker/cli's ValidateOutputPath: no missing directories made, no devices written to
    const missing = await run(env, ['save', 'bb:local', '-o', join(out, '..', 'no', 'such', 'x.tar')]);
    expect(missing.stderr).toContain(
      `failed to save image: invalid output path: directory "${join(out, '..', 'no', 'such')}" does not exist`,
    );
    expect(existsSync(join(out, '..', 'no'))).toBe(false);
    const dev = await run(env, ['save', 'bb:local', '-o', '/dev/null']);
    expect(dev.stderr).toContain(
      'invalid output path: "/dev/null" must be a directory or a regular file: got a device',
    );
    const toStdout = await run(env, ['save', 'bb:local']);
    expect(toStdout.status).toBe(0);
    expect(toStdout.stdout.length).toBeGreaterThan(500_000);
    expect(toStdout.stdout.slice(0, 10)).toBe('oci-layout');
    const oci = join(tmp('tsb-cli-save-'), 'oci');
    expect((await run(env, ['save', 'bb:local', '-o', `type=oci,dest=${oci},tar=false`])).status).toBe(0);
    expect(JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8')).manifests[0].digest).toBe(
      img.manifestDigest,
    );
    const push = await run(env, ['push', 'bb:local', `${reg.host}/copies/bb:2`]);
    expect(push.status, push.stderr).toBe(0);
    expect(push.stdout.trim()).toBe(`${reg.host}/copies/bb:2@${img.manifestDigest}`);
    const rm = await run(env, ['rm', 'bb:local']);
    expect(rm.stdout, rm.stderr).toContain('Untagged: bb:local');
    const gone = await run(env, ['inspect', 'bb:local']);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain('[IMAGE_NOT_FOUND]');
    // by id, as docker rmi: two tags need -f (even in one repository), one tag goes with its image
    const id = img.configDigest.slice(7, 19);
    expect((await run(env, ['tag', `${reg.host}/library/busybox:1`, 'bb:a'])).status).toBe(0);
    const refused = await run(env, ['rmi', id]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `conflict: unable to delete ${id} (must be forced) - image is referenced in multiple repositories`,
    );
    expect((await run(env, ['rmi', 'bb:a'])).stdout).toBe('Untagged: bb:a\n');
    expect((await run(env, ['tag', 'bb:a', 'bb:b'])).status).toBe(1);
    expect((await run(env, ['tag', `${reg.host}/library/busybox:1`, 'bb:b'])).status).toBe(0);
    expect((await run(env, ['rmi', `${reg.host}/library/busybox:1`])).status).toBe(0);
    expect((await run(env, ['rmi', id])).stdout).toBe('Untagged: bb:b\n');
    expect((await run(env, ['tag', 'bb:b', 'x:1'])).status).toBe(1);
  });

  it('rmi -f by id removes every tag of the image', async () => {
    expect((await run(env, ['pull', `${reg.host}/library/busybox:1`])).status).toBe(0);
    expect((await run(env, ['tag', `${reg.host}/library/busybox:1`, 'f1:x'])).status).toBe(0);
    expect((await run(env, ['tag', `${reg.host}/library/busybox:1`, 'f2:y'])).status).toBe(0);
    const forced = await run(env, ['rmi', '-f', img.configDigest]);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('Untagged: f1:x\n');
    expect(forced.stdout).toContain('Untagged: f2:y\n');
    expect((await run(env, ['images', '-q'])).stdout.trim()).toBe('');
  });

  it('rejects invalid references and logs out', async () => {
    const bad = await run(env, ['pull', 'Not/Valid']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('[INVALID_REFERENCE]');
    const lo = await run(env, ['logout', reg.host]);
    expect(lo.stdout).toContain(`Removing login credentials for ${reg.host}`);
    expect(
      JSON.parse(readFileSync(join(env.DOCKER_CONFIG!, 'config.json'), 'utf8')).auths[reg.host],
    ).toBeUndefined();
  });
});
