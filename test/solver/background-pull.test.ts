import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locksDir } from '../../src/store/file-lock.js';
import { openStore } from '../../src/store/index.js';
import { buildIt, makeContext, read } from '../e2e/helpers.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { type FaultProxy, startFaultProxy } from '../registry/fault-proxy.js';

requireRoot();
requireBinary('runc');

describe('a base image pulled while the build goes on', () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let img: ReturnType<typeof pushBusyboxImage>;
  beforeAll(async () => {
    reg = await startRegistry();
    img = pushBusyboxImage(reg, 'library/busybox:latest');
    proxy = await startFaultProxy(reg.host);
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });
  const isLayer = (url?: string) => url?.endsWith(`/blobs/${img.layerDigest}`) ?? false;

  it('a slow layer is waited for: the build sees the whole base, and the tag is recorded', async () => {
    proxy.rule = (req) => (isLayer(req.url) ? { kind: 'slow', delayMs: 20 } : { kind: 'pass' });
    const root = mkdtempSync(join(tmpdir(), 'tsb-bgpull-'));
    const ctx = makeContext({ 'a.txt': 'A\n' });
    const r = await buildIt(
      root,
      ctx,
      `FROM ${proxy.host}/library/busybox:latest\nCOPY a.txt /a.txt\nRUN cp /a.txt /b.txt && test -x /bin/busybox\n`,
    );
    expect(read(r.rootfs, 'b.txt')).toBe('A\n');
    const store = await openStore(root);
    expect(await store.content.has(img.manifestDigest as `sha256:${string}`)).toBe(true);
    expect((await store.snapshots.tryStat(img.diffId))?.kind).toBe('committed');
  });

  it('the context is scanned while the base is still downloading, not after its blobs are in', async () => {
    proxy.rule = (req) => (isLayer(req.url) ? { kind: 'slow', delayMs: 20 } : { kind: 'pass' });
    const root = mkdtempSync(join(tmpdir(), 'tsb-bgpull-'));
    const ctx = makeContext({ 'a.txt': 'A\n' });
    const r = await buildIt(root, ctx, `FROM ${proxy.host}/library/busybox:latest\nCOPY a.txt /a.txt\n`);
    const at = (pred: (e: (typeof r.events)[number]) => boolean) => r.events.find(pred)?.at ?? Number.NaN;
    const scanned = at(
      (e) => e.type === 'vertex' && e.status === 'done' && e.name === '[internal] load build context',
    );
    const fromStarted = at((e) => e.type === 'vertex' && e.status === 'started' && e.name.includes('FROM'));
    // The slow layer takes ~0.4 s to arrive (proxy delays, not CPU); the FROM step starts once it has.
    expect(scanned).toBeLessThan(fromStarted - 100);
    expect(read(r.rootfs, 'a.txt')).toBe('A\n');
  });

  it('a layer that lies fails the build with the digest error and commits no snapshot of it', async () => {
    proxy.rule = (req) => (isLayer(req.url) ? { kind: 'corrupt' } : { kind: 'pass' });
    const root = mkdtempSync(join(tmpdir(), 'tsb-bgpull-'));
    const ctx = makeContext({ 'a.txt': 'A\n' });
    await expect(
      buildIt(root, ctx, `FROM ${proxy.host}/library/busybox:latest\nCOPY a.txt /a.txt\n`),
    ).rejects.toMatchObject({ code: expect.stringMatching(/DIGEST/) });
    const store = await openStore(root);
    expect(await store.content.has(img.layerDigest as `sha256:${string}`)).toBe(false);
    expect(await store.snapshots.tryStat(img.diffId)).toBeUndefined();
    expect(readdirSync(join(root, 'blobs', 'sha256'))).not.toContain(img.manifestDigest.slice(7));
  });
  // The compiled CLI unpacks in a worker that follows the layer's download through the store's ingest
  // file (extract-worker.ts); the in-process path above waits for the whole blob instead.
  const cli = (root: string, ctx: string, tag = 'streamed', extra: string[] = []) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
      execFile(
        'node',
        [bin, 'build', '--root', root, '-t', tag, '--progress', 'plain', ...extra, ctx],
        { env: { ...process.env, TSBUILD_NO_FAST_NOOP: '1' } },
        (e, stdout, stderr) => resolve({ code: e ? Number(e.code ?? 1) : 0, out: stdout + stderr }),
      );
    });
  const dockerfile = (extra = '') =>
    `FROM ${proxy.host}/library/busybox:latest\nRUN test -x /bin/busybox${extra}\n`;

  for (const [what, fault] of [
    ['slow', { kind: 'slow', delayMs: 15 }],
    ['reset halfway (resumed by a range request)', { kind: 'reset', afterBytes: 300_000 }],
  ] as const) {
    it(`compiled CLI, a ${what} layer: unpacked as it lands, the snapshot is whole`, async () => {
      proxy.rule = (req) => (isLayer(req.url) ? fault : { kind: 'pass' });
      const root = mkdtempSync(join(tmpdir(), 'tsb-bgpull-'));
      const ctx = makeContext({ Dockerfile: dockerfile(' && ls /bin | wc -l > /n') });
      const r = await cli(root, ctx);
      expect(r.out).toContain('naming to');
      expect(r.code).toBe(0);
      const store = await openStore(root);
      expect((await store.snapshots.tryStat(img.diffId))?.kind).toBe('committed');
      expect(
        readFileSync(join(store.snapshots.diffDir(img.diffId), 'bin', 'busybox')).length,
      ).toBeGreaterThan(0);
      expect((await store.fsck()).problems).toEqual([]);
    });
  }

  it('compiled CLI, a base that cannot be resolved: its load-metadata step says why, as BuildKit does', async () => {
    proxy.rule = (req) =>
      req.url?.includes('/manifests/') ? { kind: 'status', status: 404 } : { kind: 'pass' };
    const root = mkdtempSync(join(tmpdir(), 'tsb-bgpull-'));
    const r = await cli(root, makeContext({ Dockerfile: dockerfile() }));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/#\d+ \[internal\] load metadata for [^\n]+\n#\d+ ERROR: \S[^\n]*404/);
  });

  it('compiled CLI, a layer that lies: the build fails with the digest error, no snapshot, a clean store', async () => {
    proxy.rule = (req) => (isLayer(req.url) ? { kind: 'corrupt' } : { kind: 'pass' });
    const root = mkdtempSync(join(tmpdir(), 'tsb-bgpull-'));
    const r = await cli(root, makeContext({ Dockerfile: dockerfile() }));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/DIGEST_MISMATCH/);
    expect(r.out).toContain(
      `blob ${img.layerDigest} of ${proxy.host}/library/busybox: the registry sent content`,
    );
    const store = await openStore(root);
    expect(await store.content.has(img.layerDigest as `sha256:${string}`)).toBe(false);
    expect(await store.snapshots.tryStat(img.diffId)).toBeUndefined();
    const left: string[] = [];
    await store.snapshots.walk((i) => {
      left.push(i.name);
    });
    expect(left).toEqual([]);
    expect((await store.fsck()).problems).toEqual([]);
  });
  // Four layers, each changing the last (a whiteout, an opaque dir, a big file): unpacked two at a
  // time into dirs of their own and committed in order (image-op.ts unpackAhead).
  const multiLayer = async (): Promise<{ ref: string; layers: string[] }> => {
    const ctx = makeContext({
      Dockerfile: [
        `FROM ${reg.host}/library/busybox:latest`,
        'RUN mkdir -p /d/x && echo 1 > /d/x/f && echo keep > /k && echo gone > /g',
        'RUN rm /g && rm -rf /d/x && mkdir /d/x && echo 2 > /d/x/new',
        'COPY big.bin /big.bin',
        '',
      ].join('\n'),
    });
    // Incompressible, so the image is over resolve-image.ts's 4 MiB: its pull unpacks in a worker
    // as the bytes land (a smaller base is unpacked in-process once it is in).
    writeFileSync(join(ctx, 'big.bin'), randomBytes(5 << 20));
    const pushed = await cli(mkdtempSync(join(tmpdir(), 'tsb-bgpull-')), ctx, `${reg.host}/library/multi:1`, [
      '--push',
    ]);
    expect(pushed.code, pushed.out).toBe(0);
    const res = await fetch(`http://${reg.host}/v2/library/multi/manifests/1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const manifest = (await res.json()) as { layers: { digest: string }[] };
    return { ref: `${proxy.host}/library/multi:1`, layers: manifest.layers.map((l) => l.digest) };
  };

  it('compiled CLI, a four-layer base: unpacked ahead, committed in order, the merged tree right', async () => {
    const { ref, layers } = await multiLayer();
    expect(layers).toHaveLength(4);
    proxy.rule = (req) => (req.url?.includes('/blobs/') ? { kind: 'slow', delayMs: 5 } : { kind: 'pass' });
    const root = mkdtempSync(join(tmpdir(), 'tsb-bgpull-'));
    const check = 'test ! -e /g && test ! -e /d/x/f && cat /d/x/new /k && test $(wc -c < /big.bin) = 5242880';
    const r = await cli(root, makeContext({ Dockerfile: `FROM ${ref}\nRUN ${check} > /out\n` }));
    expect(r.code, r.out).toBe(0);
    const store = await openStore(root);
    const committed: string[] = [];
    await store.snapshots.walk((i) => {
      if (i.kind === 'committed') committed.push(i.name);
    });
    expect(committed).toHaveLength(5); // four layers and the RUN
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect((await store.fsck()).problems).toEqual([]);
  });

  it('compiled CLI, a four-layer base no step runs on (LABEL only): it exits with the base unpacked, no lock left', async () => {
    const { ref } = await multiLayer();
    proxy.rule = (req) => (req.url?.includes('/blobs/') ? { kind: 'slow', delayMs: 5 } : { kind: 'pass' });
    const root = mkdtempSync(join(tmpdir(), 'tsb-bgpull-'));
    const r = await cli(root, makeContext({ Dockerfile: `FROM ${ref}\nLABEL only=config\n` }));
    expect(r.code, r.out).toBe(0);
    const store = await openStore(root);
    const committed: string[] = [];
    await store.snapshots.walk((i) => {
      committed.push(`${i.kind}:${i.name}`);
    });
    // The four layers unpacked whole, not cut off when the build's result was printed.
    expect(committed.filter((c) => c.startsWith('committed:'))).toHaveLength(4);
    expect(committed).toHaveLength(4);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(readdirSync(locksDir(root)).filter((n) => n.startsWith('pull-'))).toEqual([]);
    expect((await store.fsck()).problems).toEqual([]);
  });

  it('compiled CLI, a four-layer base whose big layer resets halfway: resumed by a range request, unpacked whole', async () => {
    const { ref, layers } = await multiLayer();
    proxy.rule = (req) =>
      req.url?.endsWith(`/blobs/${layers[3]}`) ? { kind: 'reset', afterBytes: 2_000_000 } : { kind: 'pass' };
    const root = mkdtempSync(join(tmpdir(), 'tsb-bgpull-'));
    const check = 'test $(wc -c < /big.bin) = 5242880 && cat /d/x/new';
    const r = await cli(root, makeContext({ Dockerfile: `FROM ${ref}\nRUN ${check} > /out\n` }));
    expect(r.code, r.out).toBe(0);
    const store = await openStore(root);
    expect(await store.content.has(layers[3] as `sha256:${string}`)).toBe(true);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect((await store.fsck()).problems).toEqual([]);
  });

  it('compiled CLI, a four-layer base whose third layer lies: fails, nothing of it committed, no unpack dir left', async () => {
    const { ref, layers } = await multiLayer();
    proxy.rule = (req) => (req.url?.endsWith(`/blobs/${layers[2]}`) ? { kind: 'corrupt' } : { kind: 'pass' });
    const root = mkdtempSync(join(tmpdir(), 'tsb-bgpull-'));
    const r = await cli(root, makeContext({ Dockerfile: `FROM ${ref}\nRUN true\n` }));
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(`blob ${layers[2]} of`);
    const store = await openStore(root);
    const left: string[] = [];
    await store.snapshots.walk((i) => {
      left.push(`${i.kind}:${i.name}`);
    });
    // The layers below the liar may stay committed (a later pull reuses them); nothing above it.
    expect(left.every((l) => l.startsWith('committed:'))).toBe(true);
    expect(left.length).toBeLessThanOrEqual(2);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect((await store.fsck()).problems).toEqual([]);
  });
  it('compiled applyImageLayers: the four layers unpacked ahead, each diff its own, no fallback hiding a failure', async () => {
    // Called directly (no build to redo a failed background apply in-process): any failure of the
    // unpack-ahead path surfaces here.
    const { layers } = await multiLayer();
    const dist = (f: string) => pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', f)).href;
    const { openStore: open } = (await import(
      dist('store/index.js')
    )) as typeof import('../../src/store/index.js');
    const reg2 = (await import(dist('registry/index.js'))) as typeof import('../../src/registry/index.js');
    const ops = (await import(
      dist('solver/ops/image-op.js')
    )) as typeof import('../../src/solver/ops/image-op.js');
    const oci = (await import(dist('oci/index.js'))) as typeof import('../../src/oci/index.js');
    const store = await open(mkdtempSync(join(tmpdir(), 'tsb-bgpull-')));
    expect(store.snapshots.kind).toBe('overlay');
    const h = await reg2.startPull(
      new reg2.RegistryClient({}),
      store,
      oci.parseReference(`${reg.host}/library/multi:1`),
    );
    const top = await ops.applyImageLayers(store, h.result, {
      signal: new AbortController().signal,
      offThread: true,
      ready: (i) => h.layers[i]!,
      growing: (i) => h.feeds[i]!,
    });
    const chain: string[] = [];
    for (let s = top; s; s = (await store.snapshots.stat(s)).parent) chain.unshift(s);
    expect(chain).toHaveLength(layers.length);
    expect(chain[0]).toBe(h.result.config.rootfs.diff_ids[0]);
    const diff = (i: number, p: string) => join(store.snapshots.diffDir(chain[i]!), p);
    expect(readFileSync(diff(1, 'k'), 'utf8')).toBe('keep\n');
    expect(lstatSync(diff(2, 'g')).isCharacterDevice()).toBe(true); // the whiteout
    expect(readFileSync(diff(2, 'd/x/new'), 'utf8')).toBe('2\n');
    expect(lstatSync(diff(3, 'big.bin')).size).toBe(5 << 20);
    expect(lstatSync(store.snapshots.diffDir(chain[3]!)).mode & 0o7777).toBe(0o755);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });
});
