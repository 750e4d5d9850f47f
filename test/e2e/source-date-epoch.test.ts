import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../../src/build.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

// BuildKit's SOURCE_DATE_EPOCH (docs/build-repro.md, exporter/containerimage/writer.go): the
// config's and the new history entries' `created` clamped to it, the base's history kept, local
// and tar outputs' files dated by it, the oci/docker index entry's org.opencontainers.image.created,
// and with rewrite-timestamp=true the build's own layers' mtimes clamped.

const EPOCH = 1700000000;
const EPOCH_TIME = '2023-11-14T22:13:20Z';
const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

/** Every path under `dir` (not `dir` itself) with its mtime in seconds. */
function mtimes(dir: string, rel = ''): [string, number][] {
  return readdirSync(join(dir, rel)).flatMap((n) => {
    const p = rel ? `${rel}/${n}` : n;
    const st = lstatSync(join(dir, p));
    const own: [string, number] = [p, Math.floor(st.mtimeMs / 1000)];
    return st.isDirectory() ? [own, ...mtimes(dir, p)] : [own];
  });
}

/** [name, mtime seconds] of each entry of a tar file. */
function tarTimes(file: string): [string, number][] {
  const out = execFileSync('tar', ['--full-time', '--utc', '-tvf', file], { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((l) => {
      const m = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (.*?)(?: -> .*| link to .*)?$/.exec(l)!;
      return [m[2]!, Date.parse(`${m[1]!.replace(' ', 'T')}Z`) / 1000];
    });
}

describe('SOURCE_DATE_EPOCH', () => {
  const base = useBusyboxRegistry();
  const dockerfile = () =>
    `FROM ${base()}\nARG SOURCE_DATE_EPOCH\nCOPY a /a\nRUN mkdir /d && echo "$SOURCE_DATE_EPOCH" > /d/b\nENV X=1\n`;

  it('dates the image and its new history, keeps the base history, dates local/tar/oci outputs; steps stay cached', async () => {
    const root = tmp('tsb-e2e-sde-');
    const ctx = makeContext({ a: 'a\n' });
    const plain = await buildIt(root, ctx, `FROM ${base()}\n`);
    const baseHistory = plain.cfg.history ?? [];
    const out = tmp('tsb-e2e-sde-out-');
    const r = await buildIt(root, ctx, dockerfile(), {
      buildArgs: { SOURCE_DATE_EPOCH: String(EPOCH) },
      outputs: ['type=image', `type=oci,dest=${out}/i.tar`, `type=tar,dest=${out}/fs.tar`],
    });
    expect(r.cfg.created).toBe(EPOCH_TIME);
    const history = r.cfg.history ?? [];
    expect(history.slice(0, baseHistory.length)).toEqual(baseHistory);
    const own = history.slice(baseHistory.length);
    expect(own.map((h) => h.created_by)).toEqual([
      'ARG SOURCE_DATE_EPOCH',
      'COPY a /a # buildkit',
      `RUN |1 SOURCE_DATE_EPOCH=${EPOCH} /bin/sh -c mkdir /d && echo "$SOURCE_DATE_EPOCH" > /d/b # buildkit`,
      'ENV X=1',
    ]);
    expect(own.map((h) => h.created)).toEqual(own.map(() => EPOCH_TIME));
    // A stage declaring the ARG sees it, as any build arg.
    expect(read(r.rootfs, 'd/b')).toBe(`${EPOCH}\n`);

    // local and tar outputs: every file dated by the epoch (a set, not a clamp: the base's too)
    const local = mtimes(r.rootfs);
    expect(local.length).toBeGreaterThan(10);
    expect(local.filter(([, t]) => t !== EPOCH)).toEqual([]);
    const inTar = tarTimes(`${out}/fs.tar`);
    expect(inTar.map(([n]) => n)).toContain('d/b');
    expect(inTar.filter(([, t]) => t !== EPOCH)).toEqual([]);

    // the oci archive's index entry
    const index = JSON.parse(
      execFileSync('tar', ['-xOf', `${out}/i.tar`, 'index.json'], { encoding: 'utf8' }),
    );
    expect(index.manifests[0].annotations).toEqual({ 'org.opencontainers.image.created': EPOCH_TIME });

    // the epoch dates the image, not the steps: where no ARG hands it to a step, another one
    // reuses them all (a step that declares it reruns, as any build arg's would)
    const noArg = `FROM ${base()}\nCOPY a /a\nRUN echo b > /b\n`;
    const first = await buildIt(root, ctx, noArg, { buildArgs: { SOURCE_DATE_EPOCH: String(EPOCH) } });
    const again = await buildIt(root, ctx, noArg, { buildArgs: { SOURCE_DATE_EPOCH: '1600000000' } });
    expect(again.stepsRun).toBe(0);
    expect(again.cfg.created).toBe('2020-09-13T12:26:40Z');
    expect(again.configDigest).not.toBe(first.configDigest);
    const rerun = await buildIt(root, ctx, dockerfile(), { buildArgs: { SOURCE_DATE_EPOCH: '1600000000' } });
    expect(rerun.stepsRun).toBe(1);
  });

  it('without it, an oci archive still dates its index entry (the export time), as BuildKit', async () => {
    const root = tmp('tsb-e2e-sde-');
    const out = join(tmp('tsb-e2e-sde-out-'), 'i.tar');
    const before = Math.floor(Date.now() / 1000);
    await build({
      root,
      context: makeContext({}),
      dockerfileText: `FROM ${base()}\n`,
      outputs: [`type=oci,dest=${out}`],
      tags: ['x:1'],
    });
    const index = JSON.parse(execFileSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' }));
    const ann = index.manifests[0].annotations;
    expect(Object.keys(ann)).toEqual([
      'io.containerd.image.name',
      'org.opencontainers.image.created',
      'org.opencontainers.image.ref.name',
    ]);
    expect(ann['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const t = Date.parse(ann['org.opencontainers.image.created']) / 1000;
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now() / 1000);
  });

  it('rewrite-timestamp=true clamps the new layers: two --no-cache builds make one image, the base layer kept', async () => {
    const ctx = makeContext({ a: 'a\n' });
    const digests = async (o: string) => {
      const out: string[] = [];
      for (let i = 0; i < 2; i++) {
        const r = await build({
          root: tmp('tsb-e2e-sde-'),
          context: ctx,
          dockerfileText: dockerfile(),
          buildArgs: { SOURCE_DATE_EPOCH: String(EPOCH) },
          noCache: true,
          outputs: [`type=image,name=x:${i}${o}`],
        });
        out.push(r.digest);
        const layers = (r.manifest as { layers: { digest: string }[] }).layers;
        expect(layers).toHaveLength(3);
        // >1 s apart: a layer carrying the build's own time cannot match by chance
        await new Promise((res) => setTimeout(res, 1100));
        if (o) out.push(layers[0]!.digest);
      }
      return out;
    };
    const [a, baseA, b, baseB] = await digests(',rewrite-timestamp=true');
    expect(a).toBe(b);
    expect(baseA).toBe(baseB);
    const plain = await build({
      root: tmp('tsb-e2e-sde-'),
      context: ctx,
      dockerfileText: `FROM ${base()}\n`,
      outputs: ['type=image,name=b'],
    });
    expect(baseA).toBe((plain.manifest as { layers: { digest: string }[] }).layers[0]!.digest);
    const [c, d] = await digests('');
    expect(c).not.toBe(d);
  });

  it('is taken from a global ARG default and from the environment (as buildx); a bad value fails clearly', async () => {
    const root = tmp('tsb-e2e-sde-');
    const ctx = makeContext({ a: 'a\n' });
    const r = await buildIt(root, ctx, `ARG SOURCE_DATE_EPOCH=1000\nFROM ${base()}\nCOPY a /a\n`);
    expect(r.cfg.created).toBe('1970-01-01T00:16:40Z');
    await expect(
      build({ root, context: ctx, dockerfileText: dockerfile(), buildArgs: { SOURCE_DATE_EPOCH: '17e8' } }),
    ).rejects.toMatchObject({ code: 'INVALID_SOURCE_DATE_EPOCH' });

    const cli = (env: Record<string, string>, ...args: string[]) =>
      spawnSync('node', [bin, 'build', '--root', root, '-q', ...args, ctx], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
        input: dockerfile(),
      });
    const id = cli({ SOURCE_DATE_EPOCH: String(EPOCH) }, '-f', '-');
    expect(id.status, id.stderr).toBe(0);
    const cfg = JSON.parse(
      readFileSync(join(root, 'blobs', 'sha256', id.stdout.trim().slice(7)), 'utf8'),
    ) as { created: string };
    expect(cfg.created).toBe(EPOCH_TIME);
    // an explicit --build-arg wins over the environment
    const over = cli(
      { SOURCE_DATE_EPOCH: String(EPOCH) },
      '-f',
      '-',
      '--build-arg',
      'SOURCE_DATE_EPOCH=1000',
    );
    expect(over.status, over.stderr).toBe(0);
    const cfg2 = JSON.parse(readFileSync(join(root, 'blobs', 'sha256', over.stdout.trim().slice(7)), 'utf8'));
    expect(cfg2.created).toBe('1970-01-01T00:16:40Z');
    const bad = cli({ SOURCE_DATE_EPOCH: 'yesterday' }, '-f', '-');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('invalid SOURCE_DATE_EPOCH "yesterday" [INVALID_SOURCE_DATE_EPOCH]');
  });
});
