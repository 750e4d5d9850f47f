import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/oci/digest.js';
import {
  type CompressedLayer,
  createLayer,
  openStore,
  type Store,
  withMount,
} from '../../src/store/index.js';
import { makeBusyboxRootfs } from '../helpers/busybox.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { sh, tempDir, treeListing } from './helpers.js';

requireRoot();
requireBinary('umoci');
requireBinary('skopeo');

/** An OCI image layout around tsbuild's layers: what umoci and skopeo read. */
function writeLayout(store: Store, layers: CompressedLayer[], dir: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (bytes: Buffer) => {
    const d = sha256Digest(bytes);
    writeFileSync(join(dir, 'blobs', 'sha256', d.slice(7)), bytes);
    return { digest: d, size: bytes.length };
  };
  for (const l of layers)
    copyFileSync(store.content.blobPath(l.digest), join(dir, 'blobs', 'sha256', l.digest.slice(7)));
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: layers.map(() => ({ created_by: 'tsbuild test' })),
      }),
    ),
  );
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    }),
  );
}

describe('layers made by tsbuild read back by umoci and skopeo', () => {
  it('umoci unpack gives the same tree as the overlay mount; skopeo copies it (digests verified)', async () => {
    const store = await openStore(tempDir(), { snapshotter: 'overlay' });
    const s = store.snapshots;
    await s.prepare('base-a');
    sh(`cp -a "${makeBusyboxRootfs()}/." "${s.diffDir('base-a')}/"`);
    sh(
      'mkdir -p data/old data/keep && echo 1 > data/old/x && echo k > data/keep/k && echo gone > gone && chmod 2755 data',
      s.diffDir('base-a'),
    );
    await s.commit('base', 'base-a');
    await s.prepare('top-a', 'base');
    const mnt = join(await store.tempDir('m'), 'm');
    mkdirSync(mnt);
    const merged = await withMount(await s.mounts('top-a'), mnt, async (d) => {
      sh(
        'rm gone && rm -rf data && mkdir data && echo new > data/new && ln -s /bin/busybox data/bb && chown 1000:1000 data/new',
        d,
      );
      return treeListing(d);
    });
    await s.commit('top', 'top-a');
    const layers = [
      await createLayer(store, 'base', { compression: 'gzip' }),
      await createLayer(store, 'top', { compression: 'uncompressed' }),
    ];
    const zstdTop = await createLayer(store, 'top', { compression: 'zstd' });
    expect(zstdTop.diffId).toBe(layers[1]!.diffId);
    const layout = tempDir('tsb-layout-');
    writeLayout(store, layers, layout);
    const bundle = join(tempDir('tsb-bundle-'), 'b');
    sh(`umoci unpack --image "${layout}:latest" "${bundle}"`);
    expect(treeListing(join(bundle, 'rootfs'))).toBe(merged);
    const rootfs = join(bundle, 'rootfs');
    expect(sh('sha256sum data/new', rootfs)).toBe(sh('sha256sum data/new', s.diffDir('top')));
    expect(sh('sha256sum bin/busybox', rootfs)).toBe(sh('sha256sum bin/busybox', s.diffDir('base')));
    // umoci 0.4 has no zstd: skopeo reads the gzip + zstd variant (it verifies every blob digest).
    const zlayout = tempDir('tsb-layout-z-');
    writeLayout(store, [layers[0]!, zstdTop], zlayout);
    const inspect = JSON.parse(sh(`skopeo inspect "oci:${zlayout}:latest"`)) as { Layers: string[] };
    expect(inspect.Layers).toEqual([layers[0]!.digest, zstdTop.digest]);
    const out = tempDir('tsb-copy-');
    sh(`skopeo copy --quiet "oci:${zlayout}:latest" "oci:${out}:copy"`);
    expect(sh(`ls "${out}/blobs/sha256"`)).toContain(zstdTop.digest.slice(7));
  });
});
