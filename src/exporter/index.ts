// Exporters: commit an image model into the store (config + manifest), then write it out: local tags,
// OCI layout (dir or tar), docker archive, flattened rootfs, registry push; a multi-platform build's index.
export { type Annotations, parseAnnotations } from './annotations.js';
export { decompressedArchive } from './archive-input.js';
export { commitImage } from './commit.js';
export { commitOptionsFor, exportArchive, exportImage, exportImages } from './export.js';
export { exportIndex, type IndexExportResult, type PlatformImage, platformDir } from './export-index.js';
export { type HistoryItem, historyItems, imageHistory } from './image-history.js';
export {
  dropUntagged,
  findImage,
  isUntaggedRecord,
  loadImage,
  noteRepoDigest,
  readDoc,
  recordImage,
  recordUntagged,
  removeImage,
  tagImage,
} from './image-store.js';
export { layerDiffSize, layerDiffSizes } from './layer-diff-size.js';
export { listImages, recordRepoDigest } from './list-images.js';
export { type LoadedArchiveImage, loadArchive } from './load-archive.js';
export { parseOutput, parseOutputs } from './output-spec.js';
export { type SaveTarget, saveTargets } from './save-targets.js';
export type * from './types.js';
