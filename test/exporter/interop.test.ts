import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exportImage,
  findImage,
  listImages,
  parseOutput,
  recordImage,
  removeImage,
} from '../../src/exporter/index.js';
import { type Descriptor, MediaType, parseReference } from '../../src/oci/index.js';
import { type PullResult, pullImage, RegistryClient } from '../../src/registry/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

describe('exporters, checked by skopeo, umoci and podman', () => {
  let reg: TestRegistry;
  let store: Store;
  let img: ReturnType<typeof pushBusyboxImage>;
  let pulled: PullResult;
  let desc: Descriptor;
  beforeAll(async () => {
    requireRoot();
    for (const b of ['skopeo', 'umoci', 'podman']) requireBinary(b);
    reg = await startRegistry();
    img = pushBusyboxImage(reg, 'library/busybox:1');
    store = await openStore(tmp('tsb-store-'));
    pulled = await pullImage(new RegistryClient(), store, parseReference(`${reg.host}/library/busybox:1`));
    desc = pulled.manifestDescriptor;
  });
  afterAll(() => reg?.stop());

  it('skopeo-pushed image pulled by tsbuild re-exports as an OCI tar with identical digests (skopeo + umoci)', async () => {
    const out = join(tmp('tsb-oci-'), 'img.tar');
    const r = await exportImage(store, desc, parseOutput(`type=oci,dest=${out}`), {
      tags: ['example.com/app:1'],
    });
    expect(r.digest).toBe(img.manifestDigest);
    const inspect = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci-archive:${out}`], { encoding: 'utf8' }),
    );
    expect(inspect.Digest).toBe(img.manifestDigest);
    expect(inspect.Layers).toEqual([img.layerDigest]);
    const dir = tmp('tsb-ociun-');
    execFileSync('tar', ['-xf', out, '-C', dir]);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('1');
    expect(index.manifests[0].annotations['io.containerd.image.name']).toBe('example.com/app:1');
    const bundle = join(tmp('tsb-bundle-'), 'b');
    execFileSync('umoci', ['unpack', '--image', `${dir}:1`, bundle]);
    expect(existsSync(join(bundle, 'rootfs', 'bin', 'busybox'))).toBe(true);
    // deterministic: the same export twice gives the same bytes
    const out2 = join(tmp('tsb-oci-'), 'img.tar');
    await exportImage(store, desc, parseOutput(`type=oci,dest=${out2}`), { tags: ['example.com/app:1'] });
    expect(readFileSync(out2).equals(readFileSync(out))).toBe(true);
  });

  it('OCI layout directory (tar=false) passes umoci', async () => {
    const dir = join(tmp('tsb-ocidir-'), 'layout');
    await exportImage(store, desc, parseOutput(`type=oci,dest=${dir},tar=false,name=app:dir`));
    const bundle = join(tmp('tsb-bundle-'), 'b');
    execFileSync('umoci', ['unpack', '--image', `${dir}:dir`, bundle]);
    expect(existsSync(join(bundle, 'rootfs', 'bin', 'sh'))).toBe(true);
  });

  it('Docker media types on request (oci-mediatypes=false), same layer bytes', async () => {
    const dir = join(tmp('tsb-ocidir-'), 'layout');
    const r = await exportImage(
      store,
      desc,
      parseOutput(`type=oci,dest=${dir},tar=false,oci-mediatypes=false`),
    );
    expect(r.digest).not.toBe(img.manifestDigest);
    const m = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', r.digest.slice(7)), 'utf8'));
    expect(m.mediaType).toBe(MediaType.dockerManifest);
    expect(m.config).toMatchObject({ mediaType: MediaType.dockerConfig, digest: img.configDigest });
    expect(m.layers[0]).toMatchObject({ mediaType: MediaType.dockerLayerGzip, digest: img.layerDigest });
  });

  it('a docker archive loads with podman load and its layers match', async () => {
    const out = join(tmp('tsb-docker-'), 'img.tar');
    await exportImage(store, desc, parseOutput(`type=docker,dest=${out}`), { tags: ['tsbtest/bb:loaded'] });
    const listing = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).split('\n');
    expect(listing).toEqual(expect.arrayContaining(['manifest.json', 'index.json', 'oci-layout']));
    const manifestJson = JSON.parse(
      execFileSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' }),
    );
    expect(manifestJson[0].RepoTags).toEqual(['tsbtest/bb:loaded']);
    const root = tmp('tsb-podman-');
    const podman = ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs'];
    mkdirSync(join(root, 'run'), { recursive: true });
    const loaded = execFileSync('podman', [...podman, 'load', '-q', '-i', out], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(loaded).toContain('tsbtest/bb:loaded');
    const info = JSON.parse(
      execFileSync('podman', [...podman, 'image', 'inspect', 'docker.io/tsbtest/bb:loaded'], {
        encoding: 'utf8',
      }).replace(/^[^[]*/, ''),
    );
    expect(info[0].RootFS.Layers).toEqual([img.diffId]);
    expect(info[0].Id).toBe(img.configDigest.slice(7));
  });

  it('image output tags in the local store; images, inspect by id prefix, rm', async () => {
    const r = await exportImage(store, desc, parseOutput('type=image'), {
      tags: ['app:latest', 'registry.example.com/team/app:2'],
    });
    expect(r.tags).toEqual(['docker.io/library/app:latest', 'registry.example.com/team/app:2']);
    const list = await listImages(store);
    expect(list.map((i) => `${i.name}:${i.tag}`)).toEqual(
      expect.arrayContaining(['docker.io/library/app:latest']),
    );
    expect(list.find((i) => i.tag === 'latest')!.id).toBe(img.configDigest);
    expect((await findImage(store, 'app')).descriptor.digest).toBe(img.manifestDigest);
    expect((await findImage(store, img.configDigest.slice(7, 19))).tags).toHaveLength(2);
    expect((await findImage(store, `app@${img.manifestDigest}`)).descriptor.digest).toBe(img.manifestDigest);
    expect(await removeImage(store, 'app')).toEqual(['docker.io/library/app:latest']);
    await expect(findImage(store, 'app')).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    expect((await findImage(store, 'registry.example.com/team/app:2')).descriptor.digest).toBe(
      img.manifestDigest,
    );
  });

  it('a digest pull is recorded as <none> and rm name@digest removes only that record', async () => {
    const byDigest = `${reg.host}/library/busybox@${img.manifestDigest}`;
    await recordImage(store, byDigest, desc);
    await recordImage(store, `${reg.host}/library/busybox:1`, desc);
    const rows = (await listImages(store)).filter((i) => i.name === `${reg.host}/library/busybox`);
    expect(rows.map((r) => r.tag ?? '<none>').sort()).toEqual(['1', '<none>']);
    expect(await removeImage(store, byDigest)).toEqual([byDigest]);
    expect((await findImage(store, `${reg.host}/library/busybox:1`)).descriptor.digest).toBe(
      img.manifestDigest,
    );
    await expect(removeImage(store, byDigest)).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });

  it('registry output pushes; skopeo copies it back and umoci unpacks it', async () => {
    const r = await exportImage(store, desc, parseOutput('type=registry'), {
      tags: [`${reg.host}/pushed/bb:1`],
    });
    expect(r.tags).toEqual([`${reg.host}/pushed/bb:1`]);
    const dir = tmp('tsb-sk-');
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${reg.host}/pushed/bb:1`,
      `oci:${dir}:x`,
    ]);
    const bundle = join(tmp('tsb-bundle-'), 'b');
    execFileSync('umoci', ['unpack', '--image', `${dir}:x`, bundle]);
    expect(existsSync(join(bundle, 'rootfs', 'bin', 'busybox'))).toBe(true);
    const digest = JSON.parse(
      execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/pushed/bb:1`], {
        encoding: 'utf8',
      }),
    ).Digest;
    expect(digest).toBe(img.manifestDigest);
  });
});
