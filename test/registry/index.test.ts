import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitImage, loadImage } from '../../src/exporter/index.js';
import {
  type Descriptor,
  encodeJson,
  MediaType,
  parsePlatform,
  parseReference,
  sha256Digest,
} from '../../src/oci/index.js';
import { pullImage, pushImage, RegistryClient } from '../../src/registry/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';

/** A multi-platform index (amd64 + arm64 variants of the busybox image), Docker or OCI flavoured, pushed by tsbuild. */
async function pushIndex(
  store: Store,
  reg: TestRegistry,
  base: Descriptor,
  repoTag: string,
  docker: boolean,
): Promise<Descriptor> {
  const img = await loadImage(store, base);
  const entries: Descriptor[] = [];
  for (const [architecture, variant] of [['amd64'], ['arm64', 'v8']] as const) {
    const c = await commitImage(
      store,
      {
        config: { ...img.config, architecture, ...(variant ? { variant } : {}) },
        layers: img.manifest.layers.map((blob, i) => ({
          blob,
          diffId: img.config.rootfs.diff_ids[i]! as `sha256:${string}`,
        })),
      },
      { ociMediaTypes: !docker },
    );
    entries.push({
      ...c.descriptor,
      platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
    });
  }
  const index = {
    schemaVersion: 2,
    mediaType: docker ? MediaType.dockerManifestList : MediaType.ociIndex,
    manifests: entries,
  };
  const bytes = encodeJson(index);
  const desc: Descriptor = { mediaType: index.mediaType, digest: sha256Digest(bytes), size: bytes.length };
  await store.content.ingest(bytes, { digest: desc.digest, size: desc.size });
  await pushImage(new RegistryClient(), store, desc, parseReference(`${reg.host}/${repoTag}`));
  return desc;
}

describe('multi-platform images (OCI index, Docker manifest list)', () => {
  let reg: TestRegistry;
  let src: Store;
  const indexes: Record<string, Descriptor> = {};
  beforeAll(async () => {
    reg = await startRegistry();
    const bb = pushBusyboxImage(reg, 'library/busybox:1');
    src = await openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));
    const r = await pullImage(new RegistryClient(), src, parseReference(bb.ref));
    indexes.oci = await pushIndex(src, reg, r.manifestDescriptor, 'multi/oci:1', false);
    indexes.docker = await pushIndex(src, reg, r.manifestDescriptor, 'multi/docker:1', true);
  });
  afterAll(() => reg?.stop());

  it.each(['oci', 'docker'])(
    '%s: pulls the requested platform, resolved ref pins the index digest',
    async (kind) => {
      const store = await openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));
      const ref = parseReference(`${reg.host}/multi/${kind}:1`);
      const arm = await pullImage(new RegistryClient(), store, ref, {
        platform: parsePlatform('linux/arm64'),
      });
      expect(arm.config.architecture).toBe('arm64');
      expect(arm.index?.descriptor.digest).toBe(indexes[kind]!.digest);
      expect(arm.ref.digest).toBe(indexes[kind]!.digest);
      expect(arm.manifestDescriptor.mediaType).toBe(
        kind === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest,
      );
      const amd = await pullImage(new RegistryClient(), store, ref, {
        platform: parsePlatform('linux/amd64'),
      });
      expect(amd.config.architecture).toBe('amd64');
      expect(amd.manifestDescriptor.digest).not.toBe(arm.manifestDescriptor.digest);
    },
  );

  it('a missing platform is a clear error listing what exists', async () => {
    const store = await openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));
    const p = pullImage(new RegistryClient(), store, parseReference(`${reg.host}/multi/oci:1`), {
      platform: parsePlatform('linux/s390x'),
    });
    await expect(p).rejects.toMatchObject({
      code: 'PLATFORM_NOT_FOUND',
      hint: expect.stringContaining('linux/amd64, linux/arm64'),
    });
  });

  it('re-pushes the whole index (all platforms) with zero uploads', async () => {
    const r = await pushImage(
      new RegistryClient(),
      src,
      indexes.oci!,
      parseReference(`${reg.host}/multi/oci:again`),
    );
    expect(r.digest).toBe(indexes.oci!.digest);
    expect(r.uploaded).toBe(0);
  });

  it('a single-platform image pulled for another platform is refused only when the platform is required', async () => {
    const store = await openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));
    const ref = parseReference(`${reg.host}/library/busybox:1`);
    const strict = pullImage(new RegistryClient(), store, ref, {
      platform: parsePlatform('linux/arm64'),
      requirePlatform: true,
    });
    await expect(strict).rejects.toMatchObject({
      code: 'PLATFORM_NOT_FOUND',
      message: expect.stringContaining('not linux/arm64'),
    });
    const loose = await pullImage(new RegistryClient(), store, ref, {
      platform: parsePlatform('linux/arm64'),
    });
    expect(loose.config.architecture).toBe('amd64');
  });
});
