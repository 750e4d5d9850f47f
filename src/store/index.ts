// Public surface of the store: content store, snapshots, metadata, gc/fsck/du, mounts, layer codecs.
// Other modules import only from here.

export { pidAlive, writeFileAtomic } from './atomic.js';
export { cacheMountsDir } from './cache-mounts.js';
export { StoreError } from './errors.js';
export {
  acquireFileLock,
  heartbeat,
  lockHolder,
  locksDir,
  type TryLockOptions,
  tryLock,
  unlock,
} from './file-lock.js';
export { applyLayer } from './layer/apply-layer.js';
export { toolDecompress } from './layer/archive-compression.js';
export { toByteString } from './layer/byte-fs.js';
export {
  type ArchiveCompression,
  chain,
  compressStream,
  decompressStream,
  detectCompression,
  sniffCompression,
} from './layer/compression.js';
export { createLayer } from './layer/create-layer.js';
export { extractLayer } from './layer/extract.js';
export { compressionOfMediaType, LAYER_MEDIA_TYPES } from './layer/media-types.js';
export { makeNodes, readXattrs, writeXattrs } from './layer/special-files.js';
export { deviceNumbers, parsePax as parsePaxRecords, rdevMajor, rdevMinor } from './layer/tar-format.js';
export {
  field as tarHeaderField,
  type ReadEntry as TarReadEntry,
  rawName as tarHeaderName,
  TarReader,
} from './layer/tar-reader.js';
export { writeLayerTar } from './layer/tar-writer.js';
export type {
  AppliedLayer,
  ApplyLayerOptions,
  CompressedLayer,
  CreateLayerOptions,
  ExtractOptions,
  ExtractResult,
  LayerSource,
  LayerTarOptions,
  LayerTarResult,
} from './layer/types.js';
export { checkOverlayDepth, mount, OVERLAY_MAX_LOWERS, unmount, withMount } from './mount.js';
export { type LocalStore, openStore } from './store.js';
export type * from './types.js';
export { formatBytes, formatSize, parseDuration, parseSize } from './units.js';
