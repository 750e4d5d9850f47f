import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageReference } from '../../src/oci/index.js';
import { blobReadable } from '../../src/registry/blob-stream.js';
import { RegistryClient, startPull } from '../../src/registry/index.js';
import { openStore } from '../../src/store/index.js';
import type { pushBusyboxImage } from '../helpers/registry.js';
import { type FaultProxy, useFaultedBusybox } from './fault-proxy.js';

const fast = { retryBaseMs: 10, retries: 2 };
const newStore = () => openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));

describe('startPull: the image known at its config, the layers still landing', () => {
  const fixture = useFaultedBusybox();
  let proxy: FaultProxy;
  let img: ReturnType<typeof pushBusyboxImage>;
  let ref: ImageReference;
  beforeAll(() => {
    proxy = fixture.proxy();
    img = fixture.img();
    ref = fixture.ref();
  });
  const isLayer = (url?: string) => url?.endsWith(`/blobs/${img.layerDigest}`) ?? false;
  const isConfig = (url?: string) => url?.endsWith(`/blobs/${img.configDigest}`) ?? false;

  it('resolves before a slow layer is in, without a /v2/ ping; done stores the layer, then the manifest', async () => {
    proxy.rule = (req) => (isLayer(req.url) ? { kind: 'slow', delayMs: 30 } : { kind: 'pass' });
    const store = await newStore();
    const h = await startPull(new RegistryClient(fast), store, ref);
    expect(h.result.configDigest).toBe(img.configDigest);
    expect(h.result.config.rootfs.diff_ids).toEqual([img.diffId]);
    expect(await store.content.has(img.layerDigest as `sha256:${string}`)).toBe(false);
    expect(await store.content.has(img.manifestDigest as `sha256:${string}`)).toBe(false);
    await h.layers[0];
    await h.done;
    for (const d of [img.manifestDigest, img.configDigest, img.layerDigest])
      expect(await store.content.has(d as `sha256:${string}`)).toBe(true);
    expect(proxy.seen.map((s) => s.url)).not.toContain('/v2/');
  });

  it('a config that lies rejects at once; the layer download is stopped and nothing is stored', async () => {
    proxy.rule = (req) => (isConfig(req.url) ? { kind: 'corrupt' } : { kind: 'pass' });
    const store = await newStore();
    await expect(startPull(new RegistryClient(fast), store, ref)).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
    expect(await store.content.has(img.configDigest as `sha256:${string}`)).toBe(false);
    expect(await store.content.has(img.manifestDigest as `sha256:${string}`)).toBe(false);
  });

  it('a layer that lies rejects its promise and done with the digest error; the manifest is never stored', async () => {
    // Held back a little: a lie that lands before the config aborts the pull itself (fail fast),
    // which on a slow VM raced this test's premise that the pull resolved first.
    proxy.rule = (req) => (isLayer(req.url) ? { kind: 'corrupt', delayMs: 300 } : { kind: 'pass' });
    const store = await newStore();
    const h = await startPull(new RegistryClient(fast), store, ref);
    await expect(h.layers[0]).rejects.toMatchObject({ code: expect.stringMatching(/DIGEST/) });
    // Said as what it is: which blob, of which image, and what came instead.
    await expect(h.layers[0]).rejects.toThrow(
      new RegExp(
        `blob ${img.layerDigest} of .*/library/busybox: the registry sent content with digest sha256:[0-9a-f]{64}$`,
      ),
    );
    await expect(h.done).rejects.toMatchObject({ code: expect.stringMatching(/DIGEST/) });
    expect(await store.content.has(img.layerDigest as `sha256:${string}`)).toBe(false);
    expect(await store.content.has(img.manifestDigest as `sha256:${string}`)).toBe(false);
  });

  it('a blob stream failing before its consumer attaches is no uncaught exception; the consumer still sees the error', async () => {
    // A lying config aborts the layer transfers while the store may still be taking its ingest lock:
    // the stream fails with no pipeline on it yet (CI once died of exactly this).
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const reason = Object.assign(new Error('config lied'), { code: 'DIGEST_MISMATCH' });
      const layer = {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: img.layerDigest,
        size: 1,
      };
      const out = blobReadable(new RegistryClient(fast), ref, layer as never, AbortSignal.abort(reason));
      await new Promise((r) => setTimeout(r, 50));
      expect(out.destroyed).toBe(true);
      expect(uncaught).toEqual([]);
      const { pipeline } = await import('node:stream/promises');
      const { Writable } = await import('node:stream');
      await expect(pipeline(out, new Writable({ write: (_c, _e, cb) => cb() }))).rejects.toBe(reason);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
  });

  it('a server that is not a registry still gets the ping and its clear error', async () => {
    proxy.rule = () => ({ kind: 'status', status: 404 });
    await expect(startPull(new RegistryClient(fast), await newStore(), ref)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
    });
    expect(proxy.seen.map((s) => s.url)).toContain('/v2/');
  });
});
