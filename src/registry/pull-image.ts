import { TsbuildError } from '../errors.js';
import {
  type Descriptor,
  type Digest,
  formatPlatform,
  hostPlatform,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type ImageReference,
  type Platform,
  parseImageConfig,
  platformMatches,
  referenceName,
  selectPlatform,
  withDigest,
} from '../oci/index.js';
import { recordBlobSource } from './blob-sources.js';
import type { RegistryClient } from './client.js';
import { LayerFeed } from './layer-feed.js';
import { limiter, uniqueByDigest } from './limit.js';
import { fetchManifest, fetchSmallBlob, MAX_MANIFEST, pullBlob, readAll } from './pull.js';
import type { PullOptions, PullResult, RegistryStore } from './types.js';

/** A pull under way: what a build needs to go on (manifest, config) before the layers are in. */
export interface PullHandle {
  result: PullResult;
  /** Per manifest layer (same index): resolves once that blob is in the store. */
  layers: Promise<void>[];
  /** Per manifest layer: its bytes as they land, for an unpacker that follows the download. */
  feeds: LayerFeed[];
  /** Every blob, then the manifest (last: its presence means the whole image is here), in the store. */
  done: Promise<void>;
}

/**
 * Pulls an image: manifest (index → the wanted platform), then config and layers at once (layers
 * bounded by `concurrency`), every byte verified into the store; nothing is downloaded that the store has.
 */
export async function pullImage(
  client: RegistryClient,
  store: RegistryStore,
  ref: ImageReference,
  opts: PullOptions = {},
): Promise<PullResult> {
  const h = await startPull(client, store, ref, opts);
  await h.done;
  return h.result;
}

/**
 * Starts a pull and resolves as soon as the config is verified: the layers keep downloading (their
 * promises in the handle) so a build can convert its Dockerfile, scan its context and unpack each
 * layer as it lands. The config is read into memory and verified there, its store write joins `done`.
 * Any failure aborts the transfers still running; `done` rejects with the first one.
 */
export async function startPull(
  client: RegistryClient,
  store: RegistryStore,
  ref: ImageReference,
  opts: PullOptions = {},
): Promise<PullHandle> {
  const { onProgress } = opts;
  const { top, m, index, manifest } = await platformManifest(client, ref, opts);
  const ctl = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, ctl.signal]) : ctl.signal;
  let failure: unknown;
  const track = (p: Promise<void>): Promise<void> => {
    const t = p.catch((e) => {
      failure ??= e;
      ctl.abort(e);
      throw e;
    });
    t.catch(() => {}); // observed through `done`; never an unhandled rejection
    return t;
  };
  for (const l of manifest.layers)
    onProgress?.({ id: l.digest.slice(7, 19), current: 0, total: l.size, status: 'waiting' });
  // Layers start beside the config: on a small image the config's round trip is most of the wait.
  const gate = limiter(client.options.concurrency);
  const byDigest = new Map<string, Promise<void>>();
  const feedOf = new Map<string, LayerFeed>();
  for (const l of uniqueByDigest(manifest.layers)) {
    const feed = new LayerFeed();
    feedOf.set(l.digest, feed);
    byDigest.set(l.digest, track(gate(() => pullBlob(client, store, ref, l, signal, onProgress, feed))));
  }
  const layers = manifest.layers.map((l) => byDigest.get(l.digest)!);
  const feeds = manifest.layers.map((l) => feedOf.get(l.digest)!);
  let configStored: Promise<void> | undefined;
  let config: ImageConfig;
  try {
    const c = await loadConfig(client, store, ref, manifest.config, signal, onProgress);
    configStored = track(c.stored);
    config = parseImageConfig(c.bytes);
    checkConfig(ref, manifest, config, index === undefined ? opts : {});
  } catch (e) {
    // Nothing keeps writing once this rejects.
    ctl.abort(e);
    await Promise.allSettled([...byDigest.values(), ...(configStored ? [configStored] : [])]);
    throw e;
  }
  const done = (async () => {
    await Promise.allSettled([...byDigest.values(), configStored]);
    if (failure !== undefined) throw failure;
    if (index)
      await store.content.ingest(top.bytes, { digest: top.descriptor.digest, size: top.descriptor.size });
    await store.content.ingest(m.bytes, { digest: m.descriptor.digest, size: m.descriptor.size });
  })();
  done.catch(() => {});
  const result: PullResult = {
    ref: withDigest(ref, index ? index.descriptor.digest : m.descriptor.digest),
    manifestDescriptor: m.descriptor,
    manifest,
    config,
    configDigest: manifest.config.digest as Digest,
    ...(index ? { index } : {}),
  };
  return { result, layers, feeds, done };
}

/** The manifest to pull: the tag's own, or the index entry for the platform (checked before any blob). */
async function platformManifest(client: RegistryClient, ref: ImageReference, opts: PullOptions) {
  const top = await fetchManifest(client, ref, undefined, opts.signal);
  let index: { descriptor: Descriptor; index: ImageIndex } | undefined;
  let m = top;
  if (top.parsed.kind === 'index') {
    index = { descriptor: top.descriptor, index: top.parsed.index };
    const entry = selectPlatform(top.parsed.index, opts.platform ?? hostPlatform(), referenceName(ref));
    m = await fetchManifest(client, ref, entry.digest, opts.signal);
    if (m.parsed.kind !== 'manifest')
      throw new TsbuildError('INVALID_MANIFEST', `index entry ${entry.digest} is not an image manifest`);
  }
  if (m.parsed.kind !== 'manifest') throw new TsbuildError('INVALID_MANIFEST', 'expected an image manifest');
  const manifest: ImageManifest = m.parsed.manifest;
  if (manifest.config.size > MAX_MANIFEST) {
    // Checked before downloading: a hostile manifest must not make us fetch gigabytes of "config".
    throw new TsbuildError('INVALID_MANIFEST', `image config of ${manifest.config.size} bytes is too large`);
  }
  return { top, m, index, manifest };
}

/** The config's bytes, from the store or the registry (verified in memory); `stored` ends its store write. */
async function loadConfig(
  client: RegistryClient,
  store: RegistryStore,
  ref: ImageReference,
  desc: Descriptor,
  signal: AbortSignal,
  onProgress: PullOptions['onProgress'],
): Promise<{ bytes: Buffer; stored: Promise<void> }> {
  const id = desc.digest.slice(7, 19);
  if (await store.content.has(desc.digest)) {
    onProgress?.({ id, current: desc.size, total: desc.size, status: 'exists' });
    return {
      bytes: await readAll(await store.content.read(desc.digest), MAX_MANIFEST),
      stored: Promise.resolve(),
    };
  }
  const bytes = await fetchSmallBlob(client, ref, desc, MAX_MANIFEST, signal);
  onProgress?.({ id, current: desc.size, total: desc.size, status: 'done' });
  const stored = (async () => {
    await store.content.ingest(bytes, { digest: desc.digest, size: desc.size });
    await recordBlobSource(store, desc.digest, referenceName(ref));
  })();
  return { bytes, stored };
}

function checkConfig(
  ref: ImageReference,
  manifest: ImageManifest,
  config: ImageConfig,
  opts: { platform?: Platform; requirePlatform?: boolean },
): void {
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new TsbuildError(
      'INVALID_MANIFEST',
      `image has ${manifest.layers.length} layers but its config lists ${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
  const own = {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
  };
  if (opts.platform && opts.requirePlatform && !platformMatches(opts.platform, own)) {
    // A single-platform image asked for another platform: Docker refuses too, rather than run the wrong arch.
    throw new TsbuildError(
      'PLATFORM_NOT_FOUND',
      `${referenceName(ref)} is ${formatPlatform(own)}, not ${formatPlatform(opts.platform)}`,
      {
        hint: 'the image is single-platform; pull it without --platform or pick an image built for that platform',
      },
    );
  }
}
