import { describe, expect, it } from 'vitest';
import {
  encodeJson,
  formatPlatform,
  type ImageIndex,
  MediaType,
  type Platform,
  parseImageConfig,
  parseManifestOrIndex,
  parsePlatform,
  platformMatches,
  selectPlatform,
} from '../../src/oci/index.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;

describe('platforms', () => {
  it.each([
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/aarch64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['Linux/AMD64', 'linux/amd64'],
    ['arm64', 'linux/arm64'],
    ['aarch64', 'linux/arm64'],
    ['s390x', 'linux/s390x'],
  ])('%s normalizes to %s', (s, want) => expect(formatPlatform(parsePlatform(s))).toBe(want));

  it('rejects nonsense', () => {
    expect(() => parsePlatform('linux/amd64/v1/x')).toThrow(/invalid platform/);
    // containerd's platforms.Parse: one word must be an OS or an architecture Go knows
    expect(() => parsePlatform('bogus')).toThrow('"bogus": unknown operating system or architecture');
  });

  it('matches normalized forms', () => {
    expect(
      platformMatches(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    ).toBe(true);
    expect(
      platformMatches(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v6' }),
    ).toBe(false);
  });

  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      {
        mediaType: MediaType.ociManifest,
        digest: d('1') as `sha256:${string}`,
        size: 1,
        platform: { os: 'linux', architecture: 'amd64' },
      },
      {
        mediaType: MediaType.ociManifest,
        digest: d('2') as `sha256:${string}`,
        size: 1,
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
      {
        mediaType: MediaType.ociManifest,
        digest: d('3') as `sha256:${string}`,
        size: 1,
        platform: { os: 'unknown', architecture: 'unknown' },
      },
    ],
  };

  it('falls back as containerd’s platforms.Only does: arm to older arm variants, amd64 to nothing', () => {
    const idx = (...plats: Platform[]): ImageIndex => ({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: plats.map((platform, i) => ({
        mediaType: MediaType.ociManifest,
        digest: d(String(i)) as `sha256:${string}`,
        size: 1,
        platform,
      })),
    });
    const arm = (variant: string) => ({ os: 'linux', architecture: 'arm', variant });
    // linux/arm is arm/v7: v7 first, then v6, then v5; never a newer one
    expect(selectPlatform(idx(arm('v5'), arm('v6'), arm('v8')), parsePlatform('linux/arm')).digest).toBe(
      d('1'),
    );
    expect(selectPlatform(idx(arm('v5')), parsePlatform('linux/arm/v6')).digest).toBe(d('0'));
    expect(() => selectPlatform(idx(arm('v8')), parsePlatform('linux/arm/v7'))).toThrow(/no manifest/);
    // dockerd 20.10 refuses an index whose only amd64 entry is amd64/v2 ("no match for platform")
    const v2 = idx({ os: 'linux', architecture: 'amd64', variant: 'v2' });
    expect(() => selectPlatform(v2, parsePlatform('linux/amd64'))).toThrow(
      /no manifest for platform linux\/amd64/,
    );
    expect(
      selectPlatform(idx({ os: 'linux', architecture: 'amd64', variant: 'v1' }), parsePlatform('linux/amd64'))
        .digest,
    ).toBe(d('0'));
    // and matches the names in any case, as containerd's Normalize lowercases them
    expect(
      selectPlatform(idx({ os: 'Linux', architecture: 'AMD64' }), parsePlatform('linux/amd64')).digest,
    ).toBe(d('0'));
  });

  it('selects the platform from an index, and says what exists when it is missing', () => {
    expect(selectPlatform(index, parsePlatform('linux/amd64')).digest).toBe(d('1'));
    expect(selectPlatform(index, parsePlatform('linux/arm64')).digest).toBe(d('2'));
    expect(() => selectPlatform(index, parsePlatform('linux/s390x'), 'app')).toThrow(
      /app has no manifest for platform linux\/s390x/,
    );
    try {
      selectPlatform(index, parsePlatform('linux/s390x'));
    } catch (e) {
      expect((e as { code: string }).code).toBe('PLATFORM_NOT_FOUND');
      expect((e as { hint: string }).hint).toBe(
        'available platforms: linux/amd64, linux/arm64; choose one with --platform',
      );
    }
  });
});

describe('manifests', () => {
  const config = { mediaType: MediaType.dockerConfig, digest: d('c'), size: 10 };
  it('reads Docker schema 2 manifests and manifest lists, by field or header', () => {
    const m = parseManifestOrIndex(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config, layers: [] }),
    );
    expect(m.kind).toBe('manifest');
    const l = parseManifestOrIndex(
      JSON.stringify({ schemaVersion: 2, manifests: [] }),
      MediaType.dockerManifestList,
    );
    expect(l.kind).toBe('index');
    // OCI manifests may omit mediaType: the shape decides
    expect(parseManifestOrIndex(JSON.stringify({ schemaVersion: 2, config, layers: [] })).kind).toBe(
      'manifest',
    );
  });

  it.each([
    ['not json', /not JSON/],
    ['[]', /not a JSON object/],
    [JSON.stringify({ schemaVersion: 1, config, layers: [] }), /schema 1 is not supported/],
    [JSON.stringify({ schemaVersion: 1, name: 'x', fsLayers: [] }), /schema 1 is not supported/],
    [JSON.stringify({ schemaVersion: 3, config, layers: [] }), /schemaVersion 3/],
    [
      JSON.stringify({ schemaVersion: 2, config: { ...config, digest: 'sha256:xyz' }, layers: [] }),
      /not a valid digest/,
    ],
    [JSON.stringify({ schemaVersion: 2, config: { ...config, size: -1 }, layers: [] }), /size/],
    [JSON.stringify({ schemaVersion: 2, mediaType: 'text/plain' }), /unsupported media type/],
  ])('rejects hostile manifest %#', (text, why) => {
    expect(() => parseManifestOrIndex(text)).toThrow(why);
  });

  it('checks config diff_ids', () => {
    expect(() =>
      parseImageConfig(
        JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: ['x'] } }),
      ),
    ).toThrow(/diff_id/);
    expect(
      parseImageConfig(
        JSON.stringify({
          os: 'linux',
          architecture: 'amd64',
          rootfs: { type: 'layers', diff_ids: [d('a')] },
        }),
      ).rootfs.diff_ids,
    ).toHaveLength(1);
  });

  it("checks the config's field types as Go's JSON decoding does (null is a zero value)", () => {
    const cfg = (extra: Record<string, unknown>) =>
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        rootfs: { type: 'layers', diff_ids: [] },
        ...extra,
      });
    const nulls = Object.fromEntries(
      [
        'Env',
        'Cmd',
        'Entrypoint',
        'OnBuild',
        'Labels',
        'ExposedPorts',
        'Volumes',
        'Shell',
        'Healthcheck',
        'User',
      ].map((k) => [k, null]),
    );
    expect(parseImageConfig(cfg({ config: nulls, history: null })).config).toEqual(nulls);
    const good = {
      Env: ['A=1'],
      Cmd: ['sh'],
      Labels: { a: 'b' },
      ExposedPorts: { '80/tcp': {} },
      ArgsEscaped: true,
      Healthcheck: { Test: ['CMD', 'true'], Interval: 30e9, Retries: 3 },
    };
    expect(
      parseImageConfig(cfg({ config: good, history: [{ created_by: 'x', empty_layer: true }] })).config,
    ).toEqual(good);
    const wrong: [Record<string, unknown>, RegExp][] = [
      [{ config: { Env: 'PATH=/x' } }, /config\.Env is "PATH=\/x", where a list of strings belongs/],
      [{ config: { Cmd: ['a', 1] } }, /config\.Cmd is .* a list of strings/],
      [{ config: { Labels: { a: 1 } } }, /config\.Labels .* an object of strings/],
      [{ config: { ExposedPorts: ['80'] } }, /config\.ExposedPorts .* an object/],
      [{ config: { User: 0 } }, /config\.User is 0, where a string belongs/],
      [{ config: { Healthcheck: { Test: 'true' } } }, /config\.Healthcheck\.Test/],
      [{ config: 'x' }, /^invalid image config: config is "x", where an object belongs/],
      [{ history: [{ empty_layer: 'yes' }] }, /history\[0\]\.empty_layer .* true or false/],
      // Go's time.Time: RFC 3339 with every field in range, or BuildKit's frontend fails
      [{ created: 'yesterday' }, /created is "yesterday", where an RFC 3339 time belongs/],
      [{ created: '' }, /created is "", where an RFC 3339 time belongs/],
      [{ created: '2001-02-03 04:05:06Z' }, /created is/],
      [{ history: [{ created: '2001-02-29T00:00:00Z' }] }, /history\[0\]\.created/],
      [{ history: [{ created: '2001-02-03T04:05:06+24:00' }] }, /history\[0\]\.created/],
      [{ 'os.features': [1] }, /os\.features is \[1\]/],
    ];
    // Go's int fields refuse a literal with a fraction or an exponent, even 3.0; other keys keep theirs
    const raw = (body: string) =>
      `{"os":"linux","architecture":"amd64","rootfs":{"diff_ids":[]},"x-n":1.5e3,"config":{${body}}}`;
    expect(() => parseImageConfig(raw('"Healthcheck":{"Retries":3.0}'))).toThrow(
      /config\.Healthcheck\.Retries is 3\.0, where an integer belongs/,
    );
    expect(() => parseImageConfig(raw('"Healthcheck":{"Interval":1e9}'))).toThrow(/Interval is 1e9/);
    expect(() => parseImageConfig(raw('"StopTimeout":2.5'))).toThrow(/StopTimeout is 2\.5/);
    const kept = parseImageConfig(raw('"Labels":{"v":"1.5e3"},"Healthcheck":{"Retries":3}'));
    const extra = (kept as unknown as Record<string, unknown>)['x-n'];
    expect([kept.config?.Labels, kept.config?.Healthcheck, extra]).toEqual([
      { v: '1.5e3' },
      { Retries: 3 },
      1500,
    ]);
    for (const created of [
      '2000-02-29T23:59:59Z',
      '2001-02-03T04:05:06.123456789+02:00',
      '0001-01-01T00:00:00Z',
    ])
      expect(parseImageConfig(cfg({ created, history: [{ created }] })).created).toBe(created);
    expect(parseImageConfig(cfg({ 'os.features': ['a', null] }))['os.features']).toEqual(['a', '']);
    for (const [extra, why] of wrong) expect(() => parseImageConfig(cfg(extra))).toThrow(why);
  });

  it('matches keys to fields up to case, as Go does: exact first, later keys win, maps merge', () => {
    const c = parseImageConfig(
      JSON.stringify({
        OS: 'linux',
        Architecture: 'amd64',
        ROOTFS: { Type: 'layers', DIFF_IDS: [d('a')] },
        AUTHOR: 'me',
        config: {
          env: ['A=1'],
          CMD: ['sh'],
          workingdir: '/w',
          labels: { a: '1' },
          Labels: { b: '2' },
          // Go's folding: U+017F (long s) is s, U+212A (Kelvin) is k
          '\u017fhell': ['/bin/sh', '-c'],
          Healthcheck: { test: ['CMD', 'true'], INTERVAL: 1e9 },
          StopTimeout: 3,
          stoptimeout: 4,
          'x-other': 1,
        },
        history: [{ Created_By: 'x', COMMENT: 'c', EMPTY_LAYER: true }],
      }),
    );
    expect([c.os, c.architecture, c.rootfs.diff_ids, c.author]).toEqual(['linux', 'amd64', [d('a')], 'me']);
    expect(c.config).toEqual({
      Env: ['A=1'],
      Cmd: ['sh'],
      WorkingDir: '/w',
      Labels: { a: '1', b: '2' },
      Shell: ['/bin/sh', '-c'],
      Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9 },
      StopTimeout: 4,
      'x-other': 1,
    });
    expect(c.history).toEqual([{ created_by: 'x', comment: 'c', empty_layer: true }]);
    // Go's zero values: a null list element or label is "", a set's value is {} whatever it was
    const z = parseImageConfig(
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        rootfs: { diff_ids: [] },
        config: {
          Env: ['A=1', null],
          Cmd: [null],
          Labels: { a: null, b: 'x' },
          ExposedPorts: { '80/tcp': null, '81/tcp': { x: 1 } },
          Volumes: { '/v': null },
          Healthcheck: { Test: ['CMD', null] },
        },
      }),
    );
    expect(z.config).toEqual({
      Env: ['A=1', ''],
      Cmd: [''],
      Labels: { a: '', b: 'x' },
      ExposedPorts: { '80/tcp': {}, '81/tcp': {} },
      Volumes: { '/v': {} },
      Healthcheck: { Test: ['CMD', ''] },
    });
    const notObject = {
      os: 'linux',
      architecture: 'amd64',
      rootfs: { diff_ids: [] },
      config: { Volumes: { '/v': 1 } },
    };
    expect(() => parseImageConfig(JSON.stringify(notObject))).toThrow(
      /config\.Volumes .* an object of objects/,
    );
    // a folded key is type-checked as the field it is
    const bad = { os: 'linux', architecture: 'amd64', rootfs: { diff_ids: [] }, config: { env: 'A=1' } };
    expect(() => parseImageConfig(JSON.stringify(bad))).toThrow(/config\.Env is "A=1"/);
  });
});

describe('encodeJson', () => {
  it("escapes what Go's json.Marshal escapes, so config bytes match BuildKit's", () => {
    const doc = { created_by: 'RUN /bin/sh -c a && b > /x <y>', l: '\u2028\u2029', e: '\n"\\é' };
    const text = encodeJson(doc).toString('utf8');
    expect(text).toBe(
      '{"created_by":"RUN /bin/sh -c a \\u0026\\u0026 b \\u003e /x \\u003cy\\u003e","l":"\\u2028\\u2029","e":"\\n\\"\\\\é"}',
    );
    expect(JSON.parse(text)).toEqual(doc);
  });
});
