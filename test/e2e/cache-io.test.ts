import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/progress/index.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { runCli } from '../helpers/run-cli.js';
import { buildIt, makeContext, ranSteps, read, useBusyboxRegistryWith } from './helpers.js';

requireRoot();
requireBinary('runc');

const { base, registry } = useBusyboxRegistryWith();

const dockerfile = () => `FROM ${base()} AS deps
RUN mkdir -p /deps && cat /proc/sys/kernel/random/uuid > /deps/id
FROM ${base()} AS build
COPY --from=deps /deps /deps
COPY src /src
RUN cat /src/* /deps/id > /out
FROM ${base()}
COPY --from=build /out /app/out
RUN wc -c /app/out > /app/size
`;

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const runs = (events: ProgressEvent[]) =>
  ranSteps(events).filter((s) => !/\] FROM |^(importing|exporting) cache/.test(s));
const warnings = (events: ProgressEvent[]) =>
  events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));

/** --cache-to / --cache-from as buildx has them: a build on an empty store finds the steps another made. */
describe('build cache export and import', () => {
  it('type=local: an empty store reuses every step, and makes the same image (same ID)', async () => {
    const ctx = makeContext({ 'src/a.txt': 'a\n', 'src/b.txt': 'b\n' });
    const cache = join(tmp('tsb-e2e-cachedir-'), 'cache');
    const first = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheTo: [`type=local,dest=${cache}`],
    });
    expect(runs(first.events)).toHaveLength(6);
    expect(readdirSync(cache).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);

    const second = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheFrom: [`type=local,src=${cache}`],
    });
    expect(runs(second.events)).toEqual([]);
    expect(second.configDigest).toBe(first.configDigest);
    // The RUN's output (a random id) is the first build's: nothing ran again.
    expect(read(second.rootfs, 'app/out')).toBe(read(first.rootfs, 'app/out'));

    // One source changed: its COPY and what follows run; min mode (the default) exported the final
    // stage's steps only, so the build stage's own steps run too, and the deps stage with them.
    writeFileSync(join(ctx, 'src/b.txt'), 'B\n');
    const third = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheFrom: [`type=local,src=${cache}`],
    });
    expect(runs(third.events)).toHaveLength(6);
    expect(read(third.rootfs, 'app/out')).toMatch(/^a\nB\n/);
  });

  it('mode=max exports every stage: a changed source re-runs only what reads it', async () => {
    const ctx = makeContext({ 'src/a.txt': 'a\n' });
    const cache = join(tmp('tsb-e2e-cachedir-'), 'cache');
    const first = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheTo: [`type=local,dest=${cache},mode=max`],
    });
    writeFileSync(join(ctx, 'src/a.txt'), 'A\n');
    const second = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheFrom: [`type=local,src=${cache}`],
    });
    expect(runs(second.events).map((s) => s.replace(/^\[(\S+) .*\] (\w+).*/, '$1 $2'))).toEqual([
      'build COPY',
      'build RUN',
      'stage-2 COPY',
      'stage-2 RUN',
    ]);
    // The deps stage came from the cache: its random id is the first build's.
    expect(read(second.rootfs, 'app/out').split('\n')[1]).toBe(read(first.rootfs, 'app/out').split('\n')[1]);
  });

  it('mode=max re-exported by a fully cached build keeps every stage (passed on, or fetched for a new dest)', async () => {
    const ctx = makeContext({ 'src/a.txt': 'a\n' });
    const ref = `${registry().host}/cache/max:buildcache`;
    const [dir1, dir2] = [join(tmp('tsb-e2e-cachedir-'), 'c'), join(tmp('tsb-e2e-cachedir-'), 'c')];
    const first = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheTo: [`type=registry,ref=${ref},mode=max`, `type=local,dest=${dir1},mode=max`],
    });
    // Everything a hit: the deps and build stages are not solved, their records go out all the same
    // (to the ref they came from, unfetched; to a new directory, fetched from the first).
    const hit = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheFrom: [ref, `type=local,src=${dir1}`],
      cacheTo: [`type=registry,ref=${ref},mode=max`, `type=local,dest=${dir2},mode=max`],
    });
    expect(runs(hit.events)).toEqual([]);
    writeFileSync(join(ctx, 'src/a.txt'), 'A\n');
    for (const from of [ref, `type=local,src=${dir2}`]) {
      const next = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), { cacheFrom: [from] });
      expect(runs(next.events).map((s) => s.replace(/^\[(\S+) .*\] (\w+).*/, '$1 $2'))).toEqual([
        'build COPY',
        'build RUN',
        'stage-2 COPY',
        'stage-2 RUN',
      ]);
      // The deps stage's random id is the first build's.
      expect(read(next.rootfs, 'app/out').split('\n')[1]).toBe(read(first.rootfs, 'app/out').split('\n')[1]);
    }
  });

  it('type=registry (and a bare ref): pushed, then pulled into an empty store; a missing cache is a warning', async () => {
    const ctx = makeContext({ 'src/a.txt': 'a\n' });
    const ref = `${registry().host}/cache/app:buildcache`;
    const first = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheTo: [`type=registry,ref=${ref}`],
    });
    const second = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), { cacheFrom: [ref] });
    expect(runs(second.events)).toEqual([]);
    expect(second.configDigest).toBe(first.configDigest);

    const none = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheFrom: [`type=registry,ref=${registry().host}/cache/none:x`],
    });
    expect(runs(none.events)).toHaveLength(6);
    expect(warnings(none.events).join('\n')).toMatch(
      /cache not imported from .*cache\/none:x: .*manifest unknown/,
    );
  });

  it('a cache whose layer is not what it claims is not used: the steps run, with a warning', async () => {
    const ctx = makeContext({ 'src/a.txt': 'a\n' });
    const cache = join(tmp('tsb-e2e-cachedir-'), 'cache');
    const df = `FROM ${base()}\nRUN echo made > /made\n`;
    await buildIt(tmp('tsb-e2e-root-'), ctx, df, { cacheTo: [`type=local,dest=${cache}`] });
    const blobs = join(cache, 'blobs', 'sha256');
    const index = JSON.parse(readFileSync(join(cache, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const manifest = JSON.parse(readFileSync(join(blobs, index.manifests[0]!.digest.slice(7)), 'utf8')) as {
      layers: { digest: string }[];
    };
    const own = manifest.layers.at(-1)!.digest.slice(7);
    writeFileSync(join(blobs, own), readFileSync(join(blobs, own)).fill(0, 20, 40));
    const again = await buildIt(tmp('tsb-e2e-root-'), ctx, df, { cacheFrom: [`type=local,src=${cache}`] });
    expect(runs(again.events)).toEqual(['[2/2] RUN echo made > /made']);
    expect(read(again.rootfs, 'made')).toBe('made\n');
    expect(warnings(again.events).join('\n')).toMatch(/imported cache not used/);
  });

  it('CLI: other backends are a warning; a malformed spec is an error before anything runs', async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${base()}\nRUN true\n` });
    const root = tmp('tsb-e2e-root-');
    const gha = await runCli(['build', '--root', root, '--progress', 'plain', '--cache-to', 'type=gha', ctx]);
    expect(gha.status, gha.stderr).toBe(0);
    expect(gha.stderr).toMatch(/--cache-to type=gha: this cache backend is not supported, ignored/);
    const bad = await runCli(['build', '--root', root, '--cache-to', 'type=local', ctx]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/invalid --cache-to type=local: type=local needs dest=/);
    // Each build with --cache-to exports (no fast no-op replay skips it).
    const dest = join(tmp('tsb-e2e-cachedir-'), 'c');
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['build', '--root', root, '-q', '--cache-to', `type=local,dest=${dest}`, ctx]);
      expect(r.status, r.stderr).toBe(0);
      expect(readdirSync(dest)).toContain('index.json');
      if (i === 0) writeFileSync(join(dest, 'index.json'), '{}');
    }
    expect(JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8')).manifests).toHaveLength(1);
  });

  it('a multi-platform build exports and imports the steps of every platform', async () => {
    const ctx = makeContext({ a: 'a\n' });
    const cache = join(tmp('tsb-e2e-cachedir-'), 'cache');
    const df = 'FROM scratch\nARG TARGETARCH\nCOPY a /a-$TARGETARCH\nCOPY a /b\n';
    const platform = 'linux/amd64,linux/arm64';
    const first = await buildIt(tmp('tsb-e2e-root-'), ctx, df, {
      platform,
      cacheTo: [`type=local,dest=${cache}`],
    });
    expect(runs(first.events)).toHaveLength(4);
    const second = await buildIt(tmp('tsb-e2e-root-'), ctx, df, {
      platform,
      cacheFrom: [`type=local,src=${cache}`],
    });
    expect(runs(second.events)).toEqual([]);
    expect(second.events.filter((e) => e.type === 'vertex' && e.status === 'cached')).toHaveLength(4);
  });
});
