import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/oci/index.js';
import { pullImage, pushImage, RegistryClient, resolve } from '../../src/registry/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary } from '../helpers/require.js';

describe('pull and push against a real registry', () => {
  let reg: TestRegistry;
  let store: Store;
  let img: ReturnType<typeof pushBusyboxImage>;
  beforeAll(async () => {
    requireBinary('skopeo');
    reg = await startRegistry();
    img = pushBusyboxImage(reg, 'library/busybox:1');
    store = await openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('resolves a tag to the manifest digest skopeo pushed', async () => {
    const client = new RegistryClient();
    const d = await resolve(client, parseReference(`${reg.host}/library/busybox:1`));
    expect(d.digest).toBe(img.manifestDigest);
    expect(d.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });

  it('pulls every blob into the store verified, and a second pull downloads nothing', async () => {
    const client = new RegistryClient();
    const events: string[] = [];
    const r = await pullImage(client, store, parseReference(`${reg.host}/library/busybox:1`), {
      onProgress: (e) => events.push(`${e.id}:${e.status}`),
    });
    expect(r.manifestDescriptor.digest).toBe(img.manifestDigest);
    expect(r.configDigest).toBe(img.configDigest);
    expect(r.config.rootfs.diff_ids).toEqual([img.diffId]);
    expect(r.ref.digest).toBe(img.manifestDigest);
    for (const d of [img.manifestDigest, img.configDigest, img.layerDigest]) {
      expect(await store.content.has(d as `sha256:${string}`)).toBe(true);
    }
    expect(events).toContain(`${img.layerDigest.slice(7, 19)}:done`);
    const again = new RegistryClient();
    const ev2: string[] = [];
    await pullImage(again, store, parseReference(`${reg.host}/library/busybox:1`), {
      onProgress: (e) => ev2.push(e.status),
    });
    expect(ev2.filter((s) => s === 'downloading')).toEqual([]);
    expect(ev2).toContain('exists');
  });

  it('pushes to another repository by mounting, re-pushes with zero uploads, and skopeo reads it back', async () => {
    const client = new RegistryClient();
    const desc = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.manifestDigest as `sha256:${string}`,
      size: 0,
    };
    desc.size = (await store.content.info(desc.digest)).size;
    const first = await pushImage(client, store, desc, parseReference(`${reg.host}/team/copy:v1`));
    expect(first.digest).toBe(img.manifestDigest);
    // the layer and config came from library/busybox on this registry: mounted, not uploaded
    expect(first.mounted).toBe(2);
    expect(first.uploaded).toBe(0);
    const again = await pushImage(client, store, desc, parseReference(`${reg.host}/team/copy:v2`));
    expect(again).toMatchObject({ uploaded: 0, mounted: 0, skipped: 2 });
    const out = execFileSync('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--raw',
      `docker://${reg.host}/team/copy:v2`,
    ]);
    expect(JSON.parse(out.toString()).layers[0].digest).toBe(img.layerDigest);
  });

  it('uploads in chunks when the blob is larger than the threshold', async () => {
    const client = new RegistryClient({ chunkThreshold: 1024, chunkSize: 64 * 1024 });
    const desc = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.manifestDigest as `sha256:${string}`,
      size: 0,
    };
    desc.size = (await store.content.info(desc.digest)).size;
    // a fresh store-less repository on a fresh registry: nothing to mount from
    const reg2 = await startRegistry();
    try {
      const r = await pushImage(client, store, desc, parseReference(`${reg2.host}/chunked/img:1`));
      expect(r.uploaded).toBe(2);
      const dir = mkdtempSync(join(tmpdir(), 'tsb-skopeo-'));
      execFileSync('skopeo', [
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        `docker://${reg2.host}/chunked/img:1`,
        `oci:${dir}:x`,
      ]);
      const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
      expect(index.manifests[0].digest).toBe(img.manifestDigest);
    } finally {
      await reg2.stop();
    }
  });

  it('fails with MANIFEST_UNKNOWN and a hint for a missing tag', async () => {
    const client = new RegistryClient();
    await expect(resolve(client, parseReference(`${reg.host}/library/busybox:nope`))).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
      hint: expect.stringContaining('tag'),
      message: expect.stringMatching(/^manifest 127\.0\.0\.1:\d+\/library\/busybox:nope: manifest unknown/),
    });
    // A digest is named with `@`, as the reference was written.
    const digest = `sha256:${'0'.repeat(63)}1`;
    await expect(
      resolve(client, parseReference(`${reg.host}/library/busybox@${digest}`)),
    ).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
      message: expect.stringContaining(`/library/busybox@${digest}: manifest unknown`),
    });
  });
});
