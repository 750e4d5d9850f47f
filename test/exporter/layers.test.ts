import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  commitImage,
  exportImage,
  exportImages,
  findImage,
  loadImage,
  parseOutput,
} from '../../src/exporter/index.js';
import { type Descriptor, MediaType, parseReference } from '../../src/oci/index.js';
import { pullImage, RegistryClient } from '../../src/registry/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

describe('outputs that unpack or create layers', () => {
  let reg: TestRegistry;
  let store: Store;
  let base: Descriptor;
  let img: ReturnType<typeof pushBusyboxImage>;
  beforeAll(async () => {
    requireRoot();
    requireBinary('umoci');
    requireBinary('zstd');
    reg = await startRegistry();
    img = pushBusyboxImage(reg, 'library/busybox:1');
    store = await openStore(tmp('tsb-store-'));
    base = (await pullImage(new RegistryClient(), store, parseReference(img.ref))).manifestDescriptor;
  });
  afterAll(() => reg?.stop());

  it('type=local writes the flattened rootfs', async () => {
    const dest = join(tmp('tsb-local-'), 'rootfs');
    await exportImage(store, base, parseOutput(`type=local,dest=${dest}`));
    expect(lstatSync(join(dest, 'bin', 'busybox')).isFile()).toBe(true);
    expect(readlinkSync(join(dest, 'bin', 'sh'))).toBe('busybox');
    expect(readFileSync(join(dest, 'etc', 'passwd'), 'utf8')).toContain('app:x:1000');
  });

  it('type=local refuses dest=/', async () => {
    await expect(exportImage(store, base, parseOutput('type=local,dest=/'))).rejects.toMatchObject({
      code: 'INVALID_OUTPUT',
    });
  });

  it('type=local says so when dest is a file, or below one', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tsb-local-file-')), 'f');
    writeFileSync(file, 'x');
    for (const dest of [file, join(file, 'sub')])
      await expect(exportImage(store, base, parseOutput(`type=local,dest=${dest}`))).rejects.toMatchObject({
        code: 'INVALID_OUTPUT',
        message: `${dest} is not a directory`,
      });
  });

  it('type=tar writes the flattened rootfs as one tar', async () => {
    const dest = join(tmp('tsb-tar-'), 'fs.tar');
    await exportImage(store, base, parseOutput(`type=tar,dest=${dest}`));
    const list = execFileSync('tar', ['-tvf', dest], { encoding: 'utf8' });
    expect(list).toMatch(/bin\/busybox/);
    expect(list).toMatch(/bin\/sh -> busybox/);
  });

  it('commits a snapshot on top of the base as a zstd layer with Docker or OCI media types; umoci unpacks it', async () => {
    const baseImg = await loadImage(store, base);
    // a committed snapshot holding one new file (the diff the solver would hand over)
    const key = `test-active-${Date.now()}`;
    await store.snapshots.prepare(key);
    const diff = store.snapshots.diffDir(key);
    mkdirSync(join(diff, 'app'), { recursive: true });
    writeFileSync(join(diff, 'app', 'hello.txt'), 'hello from a snapshot\n');
    const snapshot = `test-snap-${Date.now()}`;
    await store.snapshots.commit(snapshot, key);
    const model = {
      config: { ...baseImg.config, config: { ...baseImg.config.config, Cmd: ['cat', '/app/hello.txt'] } },
      layers: [
        {
          blob: baseImg.manifest.layers[0]!,
          diffId: baseImg.config.rootfs.diff_ids[0]! as `sha256:${string}`,
        },
        { snapshot },
      ],
      history: [
        ...(baseImg.config.history ?? []),
        { created_by: 'COPY hello.txt /app/' },
        { created_by: 'CMD', empty_layer: true },
      ],
    };
    const oci = await commitImage(store, model, { compression: 'zstd' });
    expect(oci.manifest.layers[1]!.mediaType).toBe(MediaType.ociLayerZstd);
    expect(oci.config.rootfs.diff_ids).toHaveLength(2);
    expect(oci.config.history!.filter((h) => !h.empty_layer)).toHaveLength(2);
    const docker = await commitImage(store, model, { compression: 'gzip', ociMediaTypes: false });
    expect(docker.manifest.mediaType).toBe(MediaType.dockerManifest);
    expect(docker.manifest.layers.map((l) => l.mediaType)).toEqual([
      MediaType.dockerLayerGzip,
      MediaType.dockerLayerGzip,
    ]);
    // same diff → same diffID whatever the compression
    expect(docker.config.rootfs.diff_ids).toEqual(oci.config.rootfs.diff_ids);
    // umoci 0.4 reads no zstd: check that layer with the zstd tool, and unpack a gzip OCI commit with umoci
    const zblob = store.content.blobPath(oci.manifest.layers[1]!.digest);
    const zlist = execFileSync('sh', ['-c', `zstd -dc ${zblob} | tar -tvf -`], { encoding: 'utf8' });
    expect(zlist).toMatch(/app\/hello\.txt/);
    const gz = await commitImage(store, model, { compression: 'gzip' });
    expect(gz.config.rootfs.diff_ids).toEqual(oci.config.rootfs.diff_ids);
    const dir = join(tmp('tsb-oci-'), 'layout');
    await exportImage(store, gz.descriptor, parseOutput(`type=oci,dest=${dir},tar=false,name=x:1`));
    const bundle = join(tmp('tsb-bundle-'), 'b');
    execFileSync('umoci', ['unpack', '--image', `${dir}:1`, bundle]);
    expect(readFileSync(join(bundle, 'rootfs', 'app', 'hello.txt'), 'utf8')).toBe('hello from a snapshot\n');
    expect(existsSync(join(bundle, 'rootfs', 'bin', 'busybox'))).toBe(true);
  });
});

describe('a local uncompressed image leaving the machine', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(() => reg?.stop());

  it('is gzip-compressed on push and in archives, keeps its image id, and a re-push reuses the compressed blobs', async () => {
    const store = await openStore(tmp('tsb-store-'));
    const key = `raw-active-${Date.now()}`;
    await store.snapshots.prepare(key);
    mkdirSync(join(store.snapshots.diffDir(key), 'data'), { recursive: true });
    writeFileSync(join(store.snapshots.diffDir(key), 'data', 'f.txt'), 'x'.repeat(100_000));
    const snapshot = `raw-snap-${Date.now()}`;
    await store.snapshots.commit(snapshot, key);
    const [local] = await exportImages(
      store,
      { config: { architecture: 'amd64', os: 'linux' }, layers: [{ snapshot }] },
      [parseOutput('type=image,compression=uncompressed')],
      { tags: ['raw:1'] },
    );
    const localImg = await loadImage(store, (await findImage(store, 'raw:1')).descriptor);
    expect(localImg.manifest.layers[0]!.mediaType).toBe(MediaType.ociLayer);
    const ctx = { tags: [`${reg.host}/raw/img:1`] };
    const pushed = await exportImage(store, localImg.descriptor, parseOutput('type=registry'), ctx);
    expect(pushed.digest).not.toBe(local!.digest);
    expect(pushed.configDigest).toBe(local!.configDigest);
    const remote = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/raw/img:1`], {
        encoding: 'utf8',
      }),
    );
    expect(remote.layers[0].mediaType).toBe(MediaType.ociLayerGzip);
    expect(remote.layers[0].size).toBeLessThan(10_000);
    const again = await exportImage(store, localImg.descriptor, parseOutput('type=registry'), ctx);
    expect(again.digest).toBe(pushed.digest);
    const oci = join(tmp('tsb-oci-'), 'x.tar');
    const archived = await exportImage(store, localImg.descriptor, parseOutput(`type=oci,dest=${oci}`), {});
    expect(archived.digest).toBe(pushed.digest);
    // compression=uncompressed keeps it raw
    const raw = await exportImage(
      store,
      localImg.descriptor,
      parseOutput(`type=oci,dest=${oci},compression=uncompressed`),
      {},
    );
    expect(raw.digest).toBe(local!.digest);
  });
});
