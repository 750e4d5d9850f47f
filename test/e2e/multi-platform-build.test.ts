import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/build.js';
import type { ImageIndex } from '../../src/oci/index.js';
import type { ProgressEvent } from '../../src/progress/index.js';
import { pushMultiPlatform } from '../helpers/multi-platform.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { makeContext } from './helpers.js';

requireRoot();
requireBinary('runc');
requireBinary('skopeo');

// `--platform a,b` as BuildKit builds it: one graph per platform solved together (a stage on
// $BUILDPLATFORM shared), one manifest each under an image index, step names prefixed with the
// platform (`linux/amd64->arm64` for a cross-compiling stage), local/tar outputs split by platform.

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

let reg: TestRegistry;
let busybox = '';
let multi = '';
beforeAll(async () => {
  reg = await startRegistry();
  busybox = pushBusyboxImage(reg, 'library/busybox:latest').ref;
  multi = pushMultiPlatform(reg, 'multi/rt:1', [{ architecture: 'amd64' }, { architecture: 'arm64' }]);
});
afterAll(async () => {
  await reg?.stop();
});

const dockerfile = () => `FROM --platform=$BUILDPLATFORM ${busybox} AS build
ARG TARGETPLATFORM
RUN echo "built on $(uname -m) for $TARGETPLATFORM" > /out
FROM ${multi}
ARG TARGETARCH
COPY --from=build /out /out-$TARGETARCH
`;

describe('a multi-platform build (--platform a,b)', () => {
  it('makes an index of one image per platform: tagged, pushed, in an OCI archive, split in local and tar outputs', async () => {
    const root = tmp('tsb-e2e-mpb-');
    const out = tmp('tsb-e2e-mpb-out-');
    const events: ProgressEvent[] = [];
    const ctx = makeContext({});
    const opts = {
      root,
      context: ctx,
      dockerfileText: dockerfile(),
      platform: 'linux/amd64,linux/arm64',
      tags: [`${reg.host}/mpb/app:1`],
      insecureRegistries: [reg.host],
      push: true,
      outputs: [
        'type=image',
        `type=oci,dest=${out}/i.tar`,
        `type=local,dest=${out}/fs`,
        `type=tar,dest=${out}/fs.tar`,
      ],
      iidfile: join(out, 'iid'),
      metadataFile: join(out, 'meta.json'),
      progress: { emit: (e: ProgressEvent) => events.push(e) },
    };
    const r = await build(opts);
    const index = r.manifest as ImageIndex;
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux' },
    ]);
    expect(r.configDigest).toBe(r.digest);
    expect(readFileSync(join(out, 'iid'), 'utf8')).toBe(r.digest);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta['containerimage.digest']).toBe(r.digest);
    expect(meta['containerimage.descriptor'].mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(meta).not.toHaveProperty('containerimage.config.digest');

    // each platform: its own base (arch.txt), the shared build stage's output for it
    for (const arch of ['amd64', 'arm64']) {
      expect(readFileSync(join(out, 'fs', `linux_${arch}`, 'arch.txt'), 'utf8')).toBe(`${arch}\n`);
      expect(readFileSync(join(out, 'fs', `linux_${arch}`, `out-${arch}`), 'utf8')).toBe(
        `built on x86_64 for linux/${arch}\n`,
      );
    }
    const tarList = execFileSync('tar', ['-tf', `${out}/fs.tar`], { encoding: 'utf8' }).split('\n');
    expect(tarList).toEqual(expect.arrayContaining(['linux_amd64/out-amd64', 'linux_arm64/out-arm64']));

    // BuildKit's names; the $BUILDPLATFORM base is one vertex for both
    const started = events.flatMap((e) => (e.type === 'vertex' && e.status === 'started' ? [e.name] : []));
    expect(started).toContain(
      '[linux/amd64 build 2/2] RUN echo "built on $(uname -m) for linux/amd64" > /out',
    );
    expect(started).toContain(
      '[linux/amd64->arm64 build 2/2] RUN echo "built on $(uname -m) for linux/arm64" > /out',
    );
    expect(started).toContain('[linux/arm64 stage-1 2/2] COPY --from=build /out /out-arm64');
    expect(started.filter((n) => n.includes('build 1/2] FROM'))).toHaveLength(1);

    // the registry and the OCI archive hold the same index; skopeo picks each platform from it
    const pushed = execFileSync(
      'skopeo',
      ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/mpb/app:1`],
      {
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(pushed)).toEqual(index);
    const arm = JSON.parse(
      execFileSync('skopeo', ['inspect', '--override-arch', 'arm64', `oci-archive:${out}/i.tar`], {
        encoding: 'utf8',
      }),
    );
    expect(arm.Architecture).toBe('arm64');
    expect(arm.Digest).toBe(r.digest);
    expect(arm.Layers).toHaveLength(2);

    // a rebuild is all cache and the same index
    const again = await build({ ...opts, push: false, outputs: ['type=image'] });
    expect(again.stepsRun).toBe(0);
    expect(again.digest).toBe(r.digest);
  });

  it('refuses a docker archive (one image only), as BuildKit; the CLI prints the index digest with -q', async () => {
    const root = tmp('tsb-e2e-mpb-');
    const ctx = makeContext({});
    await expect(
      build({
        root,
        context: ctx,
        dockerfileText: dockerfile(),
        platform: 'linux/amd64,linux/arm64',
        outputs: [`type=docker,dest=${join(tmp('tsb-e2e-mpb-out-'), 'd.tar')}`],
      }),
    ).rejects.toThrow(/docker exporter does not currently support exporting manifest lists/);
    // The CLI in this root, a Dockerfile on stdin.
    const cli = (input: string, ...args: string[]) =>
      spawnSync('node', [bin, args[0]!, '--root', root, ...args.slice(1)], { encoding: 'utf8', input });
    const q = cli(
      dockerfile(),
      'build',
      '-q',
      '--platform',
      'linux/arm64,linux/amd64',
      '-t',
      'mp:1',
      '-f',
      '-',
      ctx,
    );
    expect(q.status, q.stderr).toBe(0);
    const digest = q.stdout.trim();
    const ins = JSON.parse(cli('', 'inspect', '--platform', 'linux/arm64', 'mp:1').stdout);
    expect(ins.Index.Digest).toBe(digest);
    expect(ins.Architecture).toBe('arm64');
    // an index for other platforms only is listed by its first platform's image
    const other = cli(
      'FROM scratch\nLABEL a=b\n',
      'build',
      '-q',
      '--platform',
      'linux/arm64,linux/ppc64le',
      '-t',
      'other:1',
      '-f',
      '-',
      ctx,
    );
    expect(other.status, other.stderr).toBe(0);
    const listed = cli('', 'images', 'other').stdout;
    expect(listed).toMatch(/^other +1 +[0-9a-f]{12} +.*ago +\d/m);
    // watch --run runs one image: an index is refused before anything is built
    const w = cli('', 'watch', '--run', '--platform', 'linux/amd64,linux/arm64', ctx);
    expect(w.status).toBe(1);
    expect(w.stderr).toContain('--run runs one image: give one --platform');
  });
});
