import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/progress/index.js';
import { INLINE_CACHE_FIELD } from '../../src/solver/cache-io/inline-cache.js';
import { openStore } from '../../src/store/index.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, ranSteps, read, useBusyboxRegistryWith } from './helpers.js';

requireRoot();
requireBinary('runc');
requireBinary('skopeo');

const { base, registry } = useBusyboxRegistryWith();

const dockerfile = (last = 'RUN cat /src/* /id > /out') => `FROM ${base()} AS deps
RUN cat /proc/sys/kernel/random/uuid > /id
FROM ${base()}
COPY src /src
RUN cat /proc/sys/kernel/random/uuid > /id2
COPY --from=deps /id /id
${last}
`;

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const runs = (events: ProgressEvent[]) =>
  ranSteps(events).filter((s) => !/\] FROM |^(importing|exporting) cache/.test(s));
const warnings = (events: ProgressEvent[]) =>
  events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
const push = (ref: string) => [`type=image,name=${ref},push=true`];

/** The config as the registry holds it (skopeo --raw: its struct view drops unknown fields). */
function registryConfig(ref: string): Record<string, unknown> {
  const out = execFileSync(
    'skopeo',
    ['inspect', '--raw', '--config', '--tls-verify=false', `docker://${ref}`],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out) as Record<string, unknown>;
}

const records = (config: Record<string, unknown>) =>
  (config[INLINE_CACHE_FIELD] as { records: { key: string; layers: number[] }[] } | undefined)?.records;

/** BuildKit's inline cache: the records ride in the pushed image's config; `--cache-from IMAGE` reads them. */
describe('inline build cache', () => {
  it('--cache-to type=inline: an empty store reuses every step of the image, and re-exports them all', async () => {
    const ctx = makeContext({ 'src/a.txt': 'a\n' });
    const ref = `${registry().host}/inline/app:1`;
    const first = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheTo: ['type=inline'],
      outputs: push(ref),
    });
    expect(runs(first.events)).toHaveLength(5);
    // One record per step of the final stage that makes a layer (COPY, RUN, COPY, RUN).
    expect(records(registryConfig(ref))).toHaveLength(4);

    // A CI machine with nothing: every step from the image's cache, the same image again.
    const second = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheFrom: [ref],
      cacheTo: ['type=inline'],
      outputs: push(ref),
    });
    expect(runs(second.events)).toEqual([]);
    expect(second.configDigest).toBe(first.configDigest);
    expect(read(second.rootfs, 'out')).toBe(read(first.rootfs, 'out'));
    // The hit on the last step solved none below it; their records went out all the same.
    expect(records(registryConfig(ref))).toHaveLength(4);

    // The next commit changes the last step only: the steps before it come from the cache.
    const third = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile('RUN cat /id /id2 > /out'), {
      cacheFrom: [ref],
    });
    expect(runs(third.events)).toEqual(['[stage-1 5/5] RUN cat /id /id2 > /out']);
    expect(read(third.rootfs, 'id2')).toBe(read(first.rootfs, 'id2'));
  });

  it('--build-arg BUILDKIT_INLINE_CACHE=1 does the same; without either the config carries none', async () => {
    const ctx = makeContext({ 'src/a.txt': 'b\n' });
    const ref = `${registry().host}/inline/arg:1`;
    const plain = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), { outputs: push(`${ref}-plain`) });
    expect(records(registryConfig(`${ref}-plain`))).toBeUndefined();
    expect(INLINE_CACHE_FIELD in plain.cfg).toBe(false);

    await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      buildArgs: { BUILDKIT_INLINE_CACHE: '1' },
      outputs: push(ref),
    });
    expect(records(registryConfig(ref))).toHaveLength(4);
    const again = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), { cacheFrom: [ref] });
    expect(runs(again.events)).toEqual([]);
    // An image pushed without an inline cache is no cache: a warning, and the build goes on.
    const none = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), { cacheFrom: [`${ref}-plain`] });
    expect(runs(none.events)).toHaveLength(5);
    expect(warnings(none.events).join('\n')).toMatch(
      /cache not imported from .*arg:1-plain: .*no inline cache/,
    );
  });

  it('--cache-from NAME of an image in the local store reads its inline cache there, as dockerd does', async () => {
    const ctx = makeContext({ 'src/a.txt': 'd\n' });
    const root = tmp('tsb-e2e-root-');
    // Tagged here only: the registry has neither image, so a hit can come from the store alone.
    const ref = `${registry().host}/inline/local:1`;
    const first = await buildIt(root, ctx, dockerfile(), {
      cacheTo: ['type=inline'],
      outputs: [`type=image,name=${ref}`],
    });
    await buildIt(root, ctx, dockerfile(), { outputs: [`type=image,name=${ref}-plain`] });
    // `prune -a`: the build cache goes, the tagged images (and so their layers) stay.
    const store = await openStore(root);
    expect((await store.gc({ all: true })).cacheRecordsRemoved).toBeGreaterThan(0);

    const again = await buildIt(root, ctx, dockerfile(), { cacheFrom: [ref] });
    expect(runs(again.events)).toEqual([]);
    expect(warnings(again.events)).toEqual([]);
    expect(read(again.rootfs, 'out')).toBe(read(first.rootfs, 'out'));
    // A local image without an inline cache is not one: the registry is asked (it has nothing).
    await store.gc({ all: true });
    const none = await buildIt(root, ctx, dockerfile(), { cacheFrom: [`${ref}-plain`] });
    expect(runs(none.events)).toHaveLength(5);
    expect(warnings(none.events).join('\n')).toMatch(/cache not imported from .*local:1-plain/);
  });

  it('a multi-platform image: the records of each platform, read from its index', async () => {
    const ctx = makeContext({ a: 'a\n' });
    const ref = `${registry().host}/inline/multi:1`;
    const df = 'FROM scratch\nARG TARGETARCH\nCOPY a /a-$TARGETARCH\nCOPY a /b\n';
    const platform = 'linux/amd64,linux/arm64';
    await buildIt(tmp('tsb-e2e-root-'), ctx, df, { platform, cacheTo: ['type=inline'], outputs: push(ref) });
    const second = await buildIt(tmp('tsb-e2e-root-'), ctx, df, { platform, cacheFrom: [ref] });
    expect(runs(second.events)).toEqual([]);
    expect(second.events.filter((e) => e.type === 'vertex' && e.status === 'cached')).toHaveLength(4);
  });

  it('a registry cache (min mode) re-exported by a fully cached build keeps the records of every step', async () => {
    const ctx = makeContext({ 'src/a.txt': 'c\n' });
    const cache = `${registry().host}/inline/cache:buildcache`;
    await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), { cacheTo: [`type=registry,ref=${cache}`] });
    const hit = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile(), {
      cacheFrom: [cache],
      cacheTo: [`type=registry,ref=${cache}`],
    });
    expect(runs(hit.events)).toEqual([]);
    const changed = await buildIt(tmp('tsb-e2e-root-'), ctx, dockerfile('RUN cat /id /id2 > /out'), {
      cacheFrom: [cache],
    });
    expect(runs(changed.events)).toEqual(['[stage-1 5/5] RUN cat /id /id2 > /out']);
  });
});
