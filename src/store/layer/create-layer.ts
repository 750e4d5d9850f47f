import { pipeline } from 'node:stream/promises';
import type { Digest } from '../../oci/digest.js';
import { StoreError } from '../errors.js';
import { type LayerCacheEntry, type LayerRecord, layerCacheKey, type Store } from '../types.js';
import { compressStream } from './compression.js';
import { layerMediaType } from './media-types.js';
import { layerTarStream } from './tar-writer.js';
import type { CompressedLayer, CreateLayerOptions } from './types.js';

const DEFAULT_LEVEL = { gzip: 6, zstd: 3, uncompressed: 0 } as const;

/**
 * The layer blob of a committed snapshot. The tar is made from the snapshot's diff dir (no full-tree
 * walk), compressed while it streams into the content store (hashed on the way: diffID before the
 * codec, digest after), and remembered in meta (snapshot + SOURCE_DATE_EPOCH → diffID → blob per
 * codec and level), so asking again costs a lookup.
 */
export async function createLayer(
  store: Store,
  snapshot: string,
  opts: CreateLayerOptions = {},
): Promise<CompressedLayer> {
  const compression = opts.compression ?? 'gzip';
  const level = opts.level ?? DEFAULT_LEVEL[compression];
  // Single flight in this process: a second caller for the same layer (an export's outputs, images
  // sharing a snapshot) waits for the same tar walk instead of making it again.
  const flight = `${store.root}\0${layerCacheKey(snapshot, opts.sourceDateEpoch)}\0${compression}\0${level}`;
  let running = inFlight.get(flight);
  const mine = !running;
  if (!running) {
    running = makeLayer(store, snapshot, opts, compression, level).finally(() => inFlight.delete(flight));
    inFlight.set(flight, running);
  }
  let made: CompressedLayer;
  try {
    made = await running;
  } catch (e) {
    // The walk joined was stopped by its own caller's signal (a cancelled build's early layer), not
    // by anything wrong with the layer: make it here. The stopped flight has left the map by now.
    if (mine || opts.signal?.aborted || (e as Error).name !== 'AbortError') throw e;
    return createLayer(store, snapshot, opts);
  }
  return { ...made, mediaType: layerMediaType(compression, opts.docker ?? false) };
}

const inFlight = new Map<string, Promise<CompressedLayer>>();

async function makeLayer(
  store: Store,
  snapshot: string,
  opts: CreateLayerOptions,
  compression: NonNullable<CreateLayerOptions['compression']>,
  level: number,
): Promise<CompressedLayer> {
  const info = await store.snapshots.stat(snapshot);
  if (info.kind !== 'committed') {
    throw new StoreError(
      'SNAPSHOT_STATE',
      `snapshot ${JSON.stringify(snapshot)} is ${info.kind}: commit it first`,
    );
  }
  const key = layerCacheKey(snapshot, opts.sourceDateEpoch);
  const mediaType = layerMediaType(compression, opts.docker ?? false);
  const cached = mine(await store.meta.layers.get(key), info.id);
  const hit = cached?.layers.find((l) => l.compression === compression && (l.level ?? 0) === level);
  if (cached && hit && (await store.content.has(hit.digest))) {
    return { ...pick(hit, cached.diffId, cached.uncompressedSize), mediaType };
  }
  const lowerDirs = await store.snapshots.lowerDirs(snapshot);
  const tarOpts =
    opts.sourceDateEpoch === undefined ? { lowerDirs } : { lowerDirs, sourceDateEpoch: opts.sourceDateEpoch };
  const { stream, result } = layerTarStream(store.snapshots.diffDir(snapshot), tarOpts);
  const plain = compression === 'uncompressed';
  const w = await store.content.writer({
    ref: `layer-${snapshot}-${compression}-${process.pid}-${Date.now()}`,
    // An uncompressed blob is the tar itself: its digest is the diffID, hashed once, here.
    ...(plain ? { hashedBy: () => result().diffId } : {}),
  });
  try {
    const signal = opts.signal ? { signal: opts.signal } : {};
    await (plain
      ? pipeline(stream, w, signal)
      : pipeline(stream, compressStream(compression, { level }), w, signal));
  } catch (e) {
    await w.abort();
    throw e;
  }
  const blob = await w.commit();
  const tar = result();
  const record: LayerRecord = {
    diffId: tar.diffId,
    compression,
    level,
    digest: blob.digest,
    size: blob.size,
    mediaType,
  };
  // Re-read before writing: a concurrent export may have added another codec meanwhile.
  const now = mine(await store.meta.layers.get(key), info.id);
  const others = (now?.diffId === tar.diffId ? now.layers : []).filter(
    (l) => !(l.compression === compression && (l.level ?? 0) === level),
  );
  await store.meta.layers.put(key, {
    snapshot,
    snapshotId: info.id,
    ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
    diffId: tar.diffId,
    uncompressedSize: tar.size,
    layers: [...others, record],
  });
  return { ...pick(record, tar.diffId, tar.size), mediaType };
}

/** The record if it was made from this very snapshot (see LayerCacheEntry.snapshotId). */
function mine(e: LayerCacheEntry | undefined, snapshotId: string): LayerCacheEntry | undefined {
  return e?.snapshotId === snapshotId ? e : undefined;
}

function pick(l: LayerRecord, diffId: Digest, uncompressedSize: number): Omit<CompressedLayer, 'mediaType'> {
  return { diffId, digest: l.digest, size: l.size, compression: l.compression, uncompressedSize };
}
