import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tar } from './raw-tar.js';
import type { TestRegistry } from './registry.js';

/** An index of one-layer images (`/arch.txt` says which), pushed with skopeo --all. */
export function pushMultiPlatform(
  reg: TestRegistry,
  repoTag: string,
  platforms: { architecture: string; variant?: string }[],
): string {
  const layout = mkdtempSync(join(tmpdir(), 'tsb-multi-'));
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer) => {
    const d = createHash('sha256').update(b).digest('hex');
    writeFileSync(join(blobs, d), b);
    return { digest: `sha256:${d}`, size: b.length };
  };
  const manifests = platforms.map((p) => {
    const raw = tar([{ path: 'arch.txt', body: `${p.architecture}\n` }]);
    const layer = put(gzipSync(raw));
    const diffId = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    const config = put(
      Buffer.from(
        JSON.stringify({
          ...p,
          os: 'linux',
          config: { Env: [`ARCH=${p.architecture}`] },
          rootfs: { type: 'layers', diff_ids: [diffId] },
        }),
      ),
    );
    const manifest = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
        }),
      ),
    );
    return {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifest,
      platform: { ...p, os: 'linux' },
    };
  });
  const index = put(
    Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
    ),
  );
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.index.v1+json',
          ...index,
          annotations: { 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    }),
  );
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const ref = `${reg.host}/${repoTag}`;
  execFileSync('skopeo', [
    'copy',
    '--quiet',
    '--all',
    '--dest-tls-verify=false',
    `oci:${layout}:latest`,
    `docker://${ref}`,
  ]);
  return ref;
}
