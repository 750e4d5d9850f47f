// Registry benchmark: push and pull of a 200 MiB, 5-layer image to a local registry (Debian's
// docker-registry) by tsbuild vs `skopeo copy` of the same image in the same run, each against its
// own fresh registry so neither benefits from the other's blobs. Then a re-push of the unchanged
// image: it must make no blob uploads (counted) and should take a small fraction of the first push.
// Reports figures and ratios; asserts nothing.
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Descriptor, encodeJson, MediaType, parseReference, sha256Digest } from '../src/oci/index.js';
import { pullImage, pushImage, RegistryClient } from '../src/registry/index.js';
import { openStore } from '../src/store/index.js';
import { startRegistry } from '../test/helpers/registry.js';

const LAYERS = 5;
const LAYER_MIB = 40;

/** An OCI layout with LAYERS uncompressed layers of incompressible data (one file each). */
async function makeLayout(dir: string): Promise<{ manifest: Descriptor; blobs: string[] }> {
  const blobsDir = join(dir, 'blobs', 'sha256');
  mkdirSync(blobsDir, { recursive: true });
  const layers: Descriptor[] = [];
  const buf = Buffer.alloc(1 << 20);
  for (let i = 0; i < LAYERS; i++) {
    const src = join(dir, `src${i}`);
    mkdirSync(src);
    const fh = await open(join(src, `data${i}.bin`), 'w');
    for (let m = 0; m < LAYER_MIB; m++) await fh.write(randomFillSync(buf));
    await fh.close();
    const tar = join(dir, `layer${i}.tar`);
    execFileSync('tar', ['--mtime=@0', '--owner=0', '--group=0', '-C', src, '-cf', tar, '.']);
    rmSync(src, { recursive: true });
    const h = createHash('sha256');
    for await (const c of createReadStream(tar)) h.update(c as Buffer);
    const digest = `sha256:${h.digest('hex')}` as const;
    execFileSync('mv', [tar, join(blobsDir, digest.slice(7))]);
    const size = Number(
      execFileSync('stat', ['-c', '%s', join(blobsDir, digest.slice(7))], { encoding: 'utf8' }),
    );
    layers.push({ mediaType: MediaType.ociLayer, digest, size });
  }
  const config = encodeJson({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    history: layers.map((_, i) => ({ created_by: `layer ${i}` })),
  });
  const configDesc: Descriptor = {
    mediaType: MediaType.ociConfig,
    digest: sha256Digest(config),
    size: config.length,
  };
  writeFileSync(join(blobsDir, configDesc.digest.slice(7)), config);
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers,
  });
  const mDesc: Descriptor = {
    mediaType: MediaType.ociManifest,
    digest: sha256Digest(manifest),
    size: manifest.length,
  };
  writeFileSync(join(blobsDir, mDesc.digest.slice(7)), manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...mDesc, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    }),
  );
  return { manifest: mDesc, blobs: [configDesc.digest, ...layers.map((l) => l.digest), mDesc.digest] };
}

async function time<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

const work = mkdtempSync(join(tmpdir(), 'tsb-bench-reg-'));
const layout = join(work, 'layout');
const { manifest, blobs } = await makeLayout(layout);
const store = await openStore(join(work, 'store'));
for (const d of blobs)
  await store.content.ingest(createReadStream(join(layout, 'blobs', 'sha256', d.slice(7))), {
    digest: d as `sha256:${string}`,
  });

const regT = await startRegistry();
const regS = await startRegistry();
try {
  const client = new RegistryClient();
  const [tPush, first] = await time(() =>
    pushImage(client, store, manifest, parseReference(`${regT.host}/bench/img:1`)),
  );
  const [sPush] = await time(() =>
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${layout}:latest`,
      `docker://${regS.host}/bench/img:1`,
    ]),
  );
  const again = new RegistryClient();
  const [tRepush, second] = await time(() =>
    pushImage(again, store, manifest, parseReference(`${regT.host}/bench/img:1`)),
  );
  const pullStore = await openStore(join(work, 'store2'));
  const [tPull] = await time(() =>
    pullImage(new RegistryClient(), pullStore, parseReference(`${regT.host}/bench/img:1`)),
  );
  const [sPull] = await time(() =>
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${regS.host}/bench/img:1`,
      `oci:${join(work, 'skopeo-out')}:x`,
    ]),
  );
  const mib = LAYERS * LAYER_MIB;
  const rows = [
    ['push 200 MiB / 5 layers', tPush, sPush],
    ['pull 200 MiB / 5 layers', tPull, sPull],
  ] as const;
  console.log('| operation | tsbuild | skopeo copy | tsbuild / skopeo | tsbuild MiB/s |');
  console.log('|---|---|---|---|---|');
  for (const [name, t, s] of rows) {
    console.log(
      `| ${name} | ${(t / 1000).toFixed(2)} s | ${(s / 1000).toFixed(2)} s | ${(t / s).toFixed(2)} | ${(mib / (t / 1000)).toFixed(0)} |`,
    );
  }
  console.log(
    `| re-push unchanged | ${(tRepush / 1000).toFixed(3)} s | | ${((tRepush / tPush) * 100).toFixed(1)}% of first push | uploads ${second.uploaded}, skipped ${second.skipped}, requests ${again.requestCount} |`,
  );
  console.log(`first push: uploaded ${first.uploaded} blobs, ${client.requestCount} requests`);
} finally {
  await regT.stop();
  await regS.stop();
  rmSync(work, { recursive: true, force: true });
}
