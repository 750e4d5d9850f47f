import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decompressedArchive, listImages, loadArchive } from '../../src/exporter/index.js';
import { openStore } from '../../src/store/index.js';
import { tar } from '../helpers/raw-tar.js';
import { type BusyboxImage, busyboxImageLayout } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { runCli } from '../helpers/run-cli.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const cli = (root: string, args: string[]) => runCli([...args, '--root', root]);

/** Loads `file` into a fresh store: the CLI's result, and the store's `images` and `fsck`. */
async function load(file: string, root = tmp('tsb-load-root-')) {
  const r = await cli(root, ['load', '-i', file]);
  const images = (await cli(root, ['images'])).stdout;
  const fsck = await cli(root, ['fsck']);
  return { ...r, root, images, fsck };
}

describe('load: docker and OCI archives into the local store', () => {
  let bb: BusyboxImage;
  let dir: string;
  beforeAll(() => {
    requireBinary('skopeo');
    bb = busyboxImageLayout();
    dir = tmp('tsb-load-');
  });

  it("loads skopeo's docker-archive and oci-archive under their names; a build runs FROM them", async () => {
    requireRoot();
    requireBinary('runc');
    const docker = join(dir, 'bb-docker.tar');
    const oci = join(dir, 'bb-oci.tar');
    execFileSync('skopeo', ['copy', '-q', `oci:${bb.layoutDir}:latest`, `docker-archive:${docker}:bb:2`]);
    execFileSync('skopeo', [
      'copy',
      '-q',
      `oci:${bb.layoutDir}:latest`,
      `oci-archive:${oci}:reg.example/bb:3`,
    ]);
    const root = tmp('tsb-load-root-');
    const d = await load(docker, root);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toBe('Loaded image: bb:2\n');
    const o = await load(oci, root);
    expect(o.stdout).toBe('Loaded image: reg.example/bb:3\n');
    const id = bb.configDigest.slice(7, 19);
    expect(o.images).toMatch(new RegExp(`^bb +2 +${id} `, 'm'));
    expect(o.images).toMatch(new RegExp(`^reg\\.example/bb +3 +${id} `, 'm'));
    expect(o.fsck.stdout).toMatch(/: ok/);
    // No registry anywhere: the loaded images are the bases.
    const ctx = tmp('tsb-load-ctx-');
    writeFileSync(
      join(ctx, 'Dockerfile'),
      'FROM bb:2\nRUN ls /bin/busybox > /out\nFROM reg.example/bb:3\nCOPY --from=0 /out /\n',
    );
    const b = await cli(root, ['build', '-q', '-o', `type=local,dest=${join(ctx, 'out')}`, ctx]);
    expect(b.status, b.stderr).toBe(0);
    expect(readFileSync(join(ctx, 'out', 'out'), 'utf8')).toBe('/bin/busybox\n');
  });

  it('gives back the image tsbuild saved, by the same ID, from every archive kind and compression', async () => {
    const root = tmp('tsb-load-src-');
    const ctx = tmp('tsb-load-ctx-');
    writeFileSync(join(ctx, 'f'), 'f\n');
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY f /f\nCMD ["/f"]\n');
    const id = (await cli(root, ['build', '-q', '-t', 'app:1', ctx])).stdout.trim();
    expect(id).toMatch(/^sha256:/);
    const docker = join(dir, 'app-docker.tar');
    const oci = join(dir, 'app-oci.tar');
    expect((await cli(root, ['save', 'app:1', '-o', docker])).status).toBe(0);
    expect((await cli(root, ['save', 'app:1', '--format', 'oci', '-o', oci])).status).toBe(0);
    execFileSync('gzip', ['-k', docker]);
    execFileSync('xz', ['-k', '-T1', oci]);
    execFileSync('zstd', ['-q', docker, '-o', `${docker}.zst`]);
    for (const f of [docker, oci, `${docker}.gz`, `${oci}.xz`, `${docker}.zst`]) {
      const r = await load(f);
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
      expect(r.stdout, f).toBe('Loaded image: app:1\n');
      expect(r.images, f).toMatch(new RegExp(`^app +1 +${id.slice(7, 19)} `, 'm'));
      const inspect = JSON.parse((await cli(r.root, ['inspect', 'app:1'])).stdout);
      expect(JSON.stringify(inspect), f).toContain('"/f"');
    }
    // several images in one archive, as `docker save a b` writes them; skopeo reads each by name
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY f /g\n');
    const id2 = (await cli(root, ['build', '-q', '-t', 'other:2', ctx])).stdout.trim();
    for (const format of ['docker', 'oci']) {
      const both = join(dir, `both-${format}.tar`);
      const s = await cli(root, ['save', 'app:1', 'other:2', '--format', format, '-o', both]);
      expect(s.status, s.stderr).toBe(0);
      if (format === 'docker')
        expect(
          execFileSync('skopeo', ['inspect', '--config', `docker-archive:${both}:other:2`]).toString(),
        ).toContain('"diff_ids"');
      const r = await load(both);
      expect(r.stdout, format).toBe('Loaded image: app:1\nLoaded image: other:2\n');
      expect(r.images).toMatch(new RegExp(`^app +1 +${id.slice(7, 19)} `, 'm'));
      expect(r.images).toMatch(new RegExp(`^other +2 +${id2.slice(7, 19)} `, 'm'));
    }
    // what each query names, as dockerd 20.10's docker save: a bare repository all its tags (two
    // images here), a tag that one, an ID none
    await cli(root, ['tag', 'app:1', 'app:one']);
    await cli(root, ['tag', 'other:2', 'app:o']);
    const tagsIn = async (query: string) => {
      const f = join(dir, 'q.tar');
      expect((await cli(root, ['save', query, '-o', f])).status, query).toBe(0);
      const m = JSON.parse(execFileSync('tar', ['-xOf', f, 'manifest.json'], { encoding: 'utf8' }));
      return m.map((e: { RepoTags: string[] }) => e.RepoTags);
    };
    expect(await tagsIn('app')).toEqual([['app:1', 'app:one'], ['app:o']]);
    expect(await tagsIn('app:one')).toEqual([['app:one']]);
    expect(await tagsIn(id.slice(7, 19))).toEqual([null]);
    // docker save's stdin form
    const piped = execFileSync('node', [join(import.meta.dirname, '..', '..', 'bin', 'run.js'), 'load'], {
      input: readFileSync(docker),
      env: { ...process.env, TSBUILD_ROOT: tmp('tsb-load-root-') },
      encoding: 'utf8',
    });
    expect(piped).toBe('Loaded image: app:1\n');
  });

  it("reads docker 25's archives, whose layer paths are symlinks into blobs/; keeps an unnamed image as <none>", async () => {
    const layer = readFileSync(join(bb.layoutDir, 'blobs', 'sha256', bb.layerDigest.slice(7)));
    const config = readFileSync(join(bb.layoutDir, 'blobs', 'sha256', bb.configDigest.slice(7)));
    const top = join(tmp('tsb-load-d25-'), 'a');
    mkdirSync(join(top, 'blobs', 'sha256'), { recursive: true });
    mkdirSync(join(top, 'abc'));
    // moby's load takes a compressed layer file: it must unpack to the config's diff ID
    writeFileSync(join(top, 'blobs', 'sha256', bb.layerDigest.slice(7)), layer);
    writeFileSync(join(top, 'blobs', 'sha256', bb.configDigest.slice(7)), config);
    symlinkSync(`../blobs/sha256/${bb.layerDigest.slice(7)}`, join(top, 'abc', 'layer.tar'));
    const manifest = [
      { Config: `blobs/sha256/${bb.configDigest.slice(7)}`, RepoTags: null, Layers: ['abc/layer.tar'] },
    ];
    writeFileSync(join(top, 'manifest.json'), JSON.stringify(manifest));
    const file = join(dir, 'd25.tar');
    execFileSync('tar', ['-C', top, '-cf', file, '.']);
    const r = await load(file);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Loaded image ID: ${bb.configDigest}\n`);
    expect(r.images).toMatch(new RegExp(`^<none> +<none> +${bb.configDigest.slice(7, 19)} `, 'm'));
  });

  it('refuses a lying blob, a layer that is not its diff ID, names outside the archive, a cut archive: no tag, a sound store', async () => {
    const config = readFileSync(join(bb.layoutDir, 'blobs', 'sha256', bb.configDigest.slice(7)));
    const cfg = bb.configDigest.slice(7);
    const docker = (layerBody: string, layerPath = 'l/layer.tar') =>
      tar([
        { path: `${cfg}.json`, body: config.toString('latin1') },
        { path: 'l/layer.tar', body: layerBody },
        {
          path: 'manifest.json',
          body: JSON.stringify([{ Config: `${cfg}.json`, RepoTags: ['x:1'], Layers: [layerPath] }]),
        },
      ]);
    const blob = 'not what its name says';
    const cases: [string, Buffer, RegExp][] = [
      [
        'lying blob',
        tar([
          { path: `blobs/sha256/${sha(Buffer.from('other')).slice(7)}`, body: blob },
          { path: 'index.json', body: '{"schemaVersion":2,"manifests":[]}' },
        ]),
        /does not match its digest/,
      ],
      ['layer not its diff ID', docker('x'.repeat(2048)), /does not match its diff ID/],
      ['outside', docker('', '../../etc/passwd'), /does not hold: \.\.\/\.\.\/etc\/passwd/],
      [
        'cut',
        docker('x'.repeat(2048)).subarray(0, 1700),
        /not a readable image archive|truncated|unexpected end/i,
      ],
      ['not an archive', Buffer.from('hello'), /not an image archive/],
      ['short', Buffer.from('hello, world'), /not a readable image archive: truncated/],
      ['bad gzip', Buffer.from('\x1f\x8b\x08\x00garbage garbage', 'latin1'), /not a readable image archive/],
      [
        'cut xz',
        execFileSync('xz', ['-c'], { input: Buffer.alloc(4096) }).subarray(0, 40),
        /not a readable image archive: xz: .*end of input/,
      ],
      ['no manifest', tar([{ path: 'a', body: 'a' }]), /neither manifest\.json nor index\.json/],
    ];
    // In-process (the CLI's own path is the other tests'): one store per case.
    for (const [what, bytes, err] of cases) {
      const f = join(dir, `bad-${what.replaceAll(' ', '-')}.tar`);
      writeFileSync(f, bytes);
      const store = await openStore(tmp('tsb-load-bad-'));
      await expect(
        decompressedArchive(createReadStream(f)).then((t) => loadArchive(store, t)),
        what,
      ).rejects.toThrow(err);
      expect(await listImages(store), what).toEqual([]);
      expect((await store.fsck()).problems, what).toEqual([]);
      // what a failed load left is held by nothing: a prune takes it all
      await store.gc();
      expect((await store.du()).find((e) => e.kind === 'blobs')?.count, what).toBe(0);
    }
  });

  it("-i of a missing file or a directory: docker load's open/read errors, exit 1", async () => {
    const missing = await load(join(dir, 'no-such.tar'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`open ${join(dir, 'no-such.tar')}: no such file or directory`);
    const d = join(dir, 'a-dir');
    mkdirSync(d);
    const isDir = await load(d);
    expect(isDir.status).toBe(1);
    expect(isDir.stderr).toContain(`read ${d}: is a directory`);
  });
});
