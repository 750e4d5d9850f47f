import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ImageReference, parseReference } from '../../src/oci/index.js';
import { pullImage, pushImage, RegistryClient } from '../../src/registry/index.js';
import { openStore } from '../../src/store/index.js';
import type { pushBusyboxImage, TestRegistry } from '../helpers/registry.js';
import { type FaultProxy, useFaultedBusybox } from './fault-proxy.js';

const fast = { retryBaseMs: 10, retries: 4 };
const newStore = () => openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));

describe('faults between tsbuild and the registry', () => {
  const fixture = useFaultedBusybox();
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let img: ReturnType<typeof pushBusyboxImage>;
  let ref: ImageReference;
  beforeAll(() => {
    reg = fixture.reg();
    proxy = fixture.proxy();
    img = fixture.img();
    ref = fixture.ref();
  });
  const isLayer = (url?: string) => url?.endsWith(`/blobs/${img.layerDigest}`) ?? false;

  it('a connection reset mid-blob resumes with a Range request and the blob verifies', async () => {
    let cut = false;
    proxy.rule = (req) => {
      if (req.method === 'GET' && isLayer(req.url) && !cut) {
        cut = true;
        return { kind: 'reset', afterBytes: 100_000 };
      }
      return { kind: 'pass' };
    };
    const store = await newStore();
    const r = await pullImage(new RegistryClient(fast), store, ref);
    expect(r.manifestDescriptor.digest).toBe(img.manifestDigest);
    expect(await store.content.has(img.layerDigest as `sha256:${string}`)).toBe(true);
    const layerGets = proxy.seen.filter((s) => isLayer(s.url));
    expect(layerGets.length).toBe(2);
    expect(layerGets[1]!.headers.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/=(\d+)-/.exec(layerGets[1]!.headers.range!)![1])).toBeGreaterThan(0);
  });

  it('500s are retried with backoff until the registry recovers', async () => {
    proxy.rule = (req, n) =>
      n < 3 || (isLayer(req.url) && n < 8) ? { kind: 'status', status: 500 } : { kind: 'pass' };
    const store = await newStore();
    const r = await pullImage(new RegistryClient(fast), store, ref);
    expect(r.configDigest).toBe(img.configDigest);
    expect(proxy.seen.filter((s) => s.fault === 'status').length).toBeGreaterThanOrEqual(3);
  });

  it('a registry that keeps failing gives up with its status and a hint', async () => {
    const client = new RegistryClient(fast);
    await client.ping(ref.registry);
    proxy.rule = () => ({ kind: 'status', status: 503 });
    const p = pullImage(client, await newStore(), ref);
    await expect(p).rejects.toMatchObject({ status: 503, hint: expect.any(String) });
  });

  it('a blob with the wrong content is rejected and nothing is stored', async () => {
    proxy.rule = (req) => (isLayer(req.url) ? { kind: 'corrupt' } : { kind: 'pass' });
    const store = await newStore();
    await expect(pullImage(new RegistryClient(fast), store, ref)).rejects.toMatchObject({
      code: expect.stringMatching(/DIGEST/),
    });
    expect(await store.content.has(img.layerDigest as `sha256:${string}`)).toBe(false);
    expect(await store.content.has(img.manifestDigest as `sha256:${string}`)).toBe(false);
    const blobs = readdirSync(join(store.root, 'blobs', 'sha256'));
    expect(blobs).not.toContain(img.layerDigest.slice(7));
  });

  it('a manifest that lies (its bytes or its Docker-Content-Digest) is rejected and nothing is stored', async () => {
    const isManifest = (url?: string) => url?.includes('/manifests/') ?? false;
    const other = `sha256:${'0'.repeat(64)}`;
    // The tag's manifest with a Docker-Content-Digest that is not its digest.
    proxy.rule = (req) =>
      isManifest(req.url) ? { kind: 'pass', headers: { 'docker-content-digest': other } } : { kind: 'pass' };
    let store = await newStore();
    await expect(pullImage(new RegistryClient(fast), store, ref)).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
      message: expect.stringContaining(`differs from Docker-Content-Digest ${other}`),
    });
    expect(readdirSync(join(store.root, 'blobs', 'sha256'))).toEqual([]);
    // Pulled by digest, a manifest whose bytes hash to something else.
    proxy.rule = (req) => (isManifest(req.url) ? { kind: 'corrupt' } : { kind: 'pass' });
    store = await newStore();
    const byDigest = parseReference(`${ref.registry}/${ref.repository}@${img.manifestDigest}`);
    await expect(pullImage(new RegistryClient(fast), store, byDigest)).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
      message: expect.stringContaining(`for ${img.manifestDigest}`),
    });
    expect(readdirSync(join(store.root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('slow responses complete; a stalled one times out and is retried', async () => {
    proxy.rule = (req) => (isLayer(req.url) ? { kind: 'slow', delayMs: 20 } : { kind: 'pass' });
    const s1 = await newStore();
    await pullImage(new RegistryClient(fast), s1, ref);
    expect(await s1.content.has(img.layerDigest as `sha256:${string}`)).toBe(true);
    let stalled = 0;
    proxy.rule = (req) => (isLayer(req.url) && stalled++ === 0 ? { kind: 'stall' } : { kind: 'pass' });
    const s2 = await newStore();
    await pullImage(new RegistryClient({ ...fast, timeoutMs: 500 }), s2, ref);
    expect(await s2.content.has(img.layerDigest as `sha256:${string}`)).toBe(true);
    expect(stalled).toBeGreaterThanOrEqual(2);
  });

  it('a chunked push cut mid-chunk asks where the upload stopped and resumes there', async () => {
    const src = await newStore();
    const pulled = await pullImage(
      new RegistryClient(fast),
      src,
      parseReference(`${reg.host}/library/busybox:1`),
    );
    let cut = false;
    proxy.rule = (req) => {
      if (req.method === 'PATCH' && !cut && proxy.seen.filter((s) => s.method === 'PATCH').length === 2) {
        cut = true;
        return { kind: 'status', status: 502 };
      }
      return { kind: 'pass' };
    };
    const client = new RegistryClient({ ...fast, chunkThreshold: 1024, chunkSize: 128 * 1024 });
    const r = await pushImage(
      client,
      src,
      pulled.manifestDescriptor,
      parseReference(`${proxy.host}/fresh/resume:1`),
    );
    expect(r.digest).toBe(img.manifestDigest);
    expect(cut).toBe(true);
    const statusGets = proxy.seen.filter((s) => s.method === 'GET' && s.url.includes('/blobs/uploads/'));
    expect(statusGets.length).toBe(1);
    // the pushed image pulls back intact
    await pullImage(new RegistryClient(fast), await newStore(), parseReference(`${reg.host}/fresh/resume:1`));
  });

  it('cancelling a pull stops it promptly and leaves no partial blob', async () => {
    proxy.rule = (req) => (isLayer(req.url) ? { kind: 'slow', delayMs: 200 } : { kind: 'pass' });
    const store = await newStore();
    const ac = new AbortController();
    const p = pullImage(new RegistryClient(fast), store, ref, { signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    const t = Date.now();
    await expect(p).rejects.toBeDefined();
    expect(Date.now() - t).toBeLessThan(3000);
    expect(await store.content.has(img.layerDigest as `sha256:${string}`)).toBe(false);
    expect(await store.content.has(img.manifestDigest as `sha256:${string}`)).toBe(false);
  });

  it('honours OCI-Chunk-Min-Length: chunks are at least that long', async () => {
    const src = await newStore();
    const pulled = await pullImage(
      new RegistryClient(fast),
      src,
      parseReference(`${reg.host}/library/busybox:1`),
    );
    const min = 300 * 1024;
    proxy.rule = (req) =>
      req.method === 'POST' && req.url?.includes('/blobs/uploads/')
        ? { kind: 'pass', headers: { 'oci-chunk-min-length': String(min) } }
        : { kind: 'pass' };
    const client = new RegistryClient({ ...fast, chunkThreshold: 1024, chunkSize: 64 * 1024 });
    await pushImage(client, src, pulled.manifestDescriptor, parseReference(`${proxy.host}/fresh/minchunk:1`));
    const patches = proxy.seen.filter((s) => s.method === 'PATCH');
    expect(patches.length).toBeGreaterThan(1);
    const lengths = patches.map((p) => Number(p.headers['content-length']));
    // every chunk but the last is at least the minimum the registry asked for
    for (const n of lengths.slice(0, -1)) expect(n).toBeGreaterThanOrEqual(min);
    expect(patches.map((p) => p.headers['content-range'])[0]).toBe(`0-${min - 1}`);
  });
});
