import { describe, expect, it } from 'vitest';
import { cacheDocuments, parseCacheDocuments } from '../../src/solver/cache-io/cache-manifest.js';
import { parseCacheSpecs } from '../../src/solver/cache-io/cache-spec.js';
import { INLINE_CACHE_FIELD, inlineCacheArg, inlineRecords } from '../../src/solver/cache-io/inline-cache.js';

const d = (c: string) => `sha256:${c.repeat(64)}` as `sha256:${string}`;
const layer = (c: string, created?: number) => ({
  blob: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d(c), size: 10 },
  diffId: d(c === 'a' ? 'b' : 'c'),
  ...(created ? { created } : {}),
});

describe('--cache-from / --cache-to specs', () => {
  it('takes buildx forms: registry (or a bare ref), local, mode, ignore-error', () => {
    expect(parseCacheSpecs(['type=registry,ref=localhost:5000/app:cache,mode=max'], 'to').specs).toEqual([
      { type: 'registry', ref: 'localhost:5000/app:cache', mode: 'max', ignoreError: false },
    ]);
    expect(parseCacheSpecs(['reg.example/app:cache'], 'from').specs).toEqual([
      { type: 'registry', ref: 'reg.example/app:cache', mode: 'min', ignoreError: false },
    ]);
    expect(parseCacheSpecs(['ref=app'], 'from').specs[0]).toMatchObject({
      ref: 'docker.io/library/app:latest',
    });
    expect(parseCacheSpecs(['type=local,dest=/c,ignore-error=true'], 'to').specs).toEqual([
      { type: 'local', dir: '/c', mode: 'min', ignoreError: true },
    ]);
    // GitHub Actions' usual spelling (ECR needs image-manifest=true): accepted, the cache is that anyway.
    expect(
      parseCacheSpecs(['type=registry,ref=r/app:c,mode=max,image-manifest=true,oci-mediatypes=true'], 'to')
        .specs,
    ).toEqual([{ type: 'registry', ref: 'docker.io/r/app:c', mode: 'max', ignoreError: false }]);
    expect(parseCacheSpecs(['type=local,src=/c'], 'from').specs[0]).toMatchObject({
      type: 'local',
      dir: '/c',
    });
  });

  it('other backends are set aside (a warning), malformed specs are errors', () => {
    expect(parseCacheSpecs(['type=s3,bucket=b', 'type=gha,scope=x'], 'to')).toEqual({
      specs: [],
      inline: false,
      ignored: ['--cache-to type=s3,bucket=b', '--cache-to type=gha,scope=x'],
    });
    // An inline cache goes into the image (--cache-to); it is read back as --cache-from IMAGE.
    expect(parseCacheSpecs(['type=inline'], 'to')).toEqual({ specs: [], inline: true, ignored: [] });
    expect(parseCacheSpecs(['type=inline'], 'from')).toEqual({
      specs: [],
      inline: false,
      ignored: ['--cache-from type=inline'],
    });
    expect(() => parseCacheSpecs(['type=local'], 'to')).toThrow(/type=local needs dest=/);
    expect(() => parseCacheSpecs(['type=local,dest=/c'], 'from')).toThrow(
      /unknown or unsupported key "dest"/,
    );
    expect(() => parseCacheSpecs(['type=registry'], 'from')).toThrow(/needs ref=/);
    expect(() => parseCacheSpecs(['type=registry,ref=a,mode=all'], 'to')).toThrow(/mode must be min or max/);
    expect(() => parseCacheSpecs(['type=s4,ref=a'], 'to')).toThrow(/unknown type "s4"/);
  });
});

describe('cache documents', () => {
  it('round-trip: each layer once, records by index, creation times kept', () => {
    const docs = cacheDocuments([
      { key: 'k2', layers: [layer('a'), layer('e', 1700000000000)] },
      { key: 'k1', layers: [layer('a')] },
    ]);
    expect(docs.layers.map((l) => l.digest)).toEqual([d('a'), d('e')]);
    const back = parseCacheDocuments(docs.layers, docs.config.bytes);
    expect(back.get('k1')).toEqual([layer('a')]);
    expect(back.get('k2')).toEqual([layer('a'), layer('e', 1700000000000)]);
    // Deterministic: the same records make the same manifest.
    expect(cacheDocuments([...[{ key: 'k1', layers: [layer('a')] }]]).manifest.descriptor.digest).toBe(
      cacheDocuments([{ key: 'k1', layers: [layer('a')] }]).manifest.descriptor.digest,
    );
  });

  it('refuses a config that does not match its manifest or is not a tsbuild cache', () => {
    const docs = cacheDocuments([{ key: 'k', layers: [layer('a')] }]);
    const doc = JSON.parse(docs.config.bytes.toString());
    const bad =
      (v: unknown, layers = docs.layers) =>
      () =>
        parseCacheDocuments(layers, Buffer.from(JSON.stringify(v)));
    expect(() => parseCacheDocuments(docs.layers, Buffer.from('not json'))).toThrow(/not JSON/);
    expect(bad({ rootfs: {} })).toThrow(/not a tsbuild cache/);
    expect(bad(doc, [])).toThrow(/diffIds do not match/);
    expect(bad({ ...doc, records: [{ key: 'k', layers: [1] }] })).toThrow(/bad record "k"/);
    expect(bad({ ...doc, records: [{ key: 7, layers: [] }] })).toThrow(/bad record/);
  });
});

describe('inline cache (in an image config)', () => {
  const layers = [layer('a').blob, layer('e').blob];
  const config = (inline: unknown, diffIds: unknown = [d('b'), d('c')]) =>
    Buffer.from(
      JSON.stringify({ rootfs: { type: 'layers', diff_ids: diffIds }, [INLINE_CACHE_FIELD]: inline }),
    );

  it('records over the image layers and its rootfs; base layers undated', () => {
    const got = inlineRecords(
      layers,
      config({ tsbuildCache: 1, created: [null, 1700000000000], records: [{ key: 'k', layers: [0, 1] }] }),
    );
    expect(got.get('k')).toEqual([layer('a'), layer('e', 1700000000000)]);
  });

  it('refuses an image without one, and a hostile one (indexes out of range, diffIDs that do not match)', () => {
    expect(() => inlineRecords(layers, config(undefined))).toThrow(/no inline cache/);
    expect(() => inlineRecords(layers, Buffer.from('{'))).toThrow(/not JSON/);
    const doc = (records: unknown) => ({ tsbuildCache: 1, created: [], records });
    expect(() => inlineRecords(layers, config(doc([{ key: 'k', layers: [2] }])))).toThrow(/bad record/);
    expect(() => inlineRecords(layers, config(doc([{ key: 'k', layers: [-1] }])))).toThrow(/bad record/);
    expect(() => inlineRecords(layers, config(doc('x')))).toThrow(/bad records/);
    expect(() => inlineRecords(layers, config(doc([]), [d('b')]))).toThrow(/diffIds do not match/);
    expect(() => inlineRecords(layers, config({ ...doc([]), tsbuildCache: 2 }))).toThrow(
      /not a tsbuild cache/,
    );
  });

  it('BUILDKIT_INLINE_CACHE is read as Go reads a bool', () => {
    for (const v of ['1', 'true', 'TRUE', 't'])
      expect(inlineCacheArg({ BUILDKIT_INLINE_CACHE: v })).toBe(true);
    for (const v of ['0', 'false', '', 'yes'])
      expect(inlineCacheArg({ BUILDKIT_INLINE_CACHE: v })).toBe(false);
    expect(inlineCacheArg(undefined)).toBe(false);
  });
});
