import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  const cli = (root: string, ctx: string) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
      execFile(
        'node',
        [bin, 'build', '--root', root, '-t', 'streamed', '--progress', 'plain', ctx],
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
});
