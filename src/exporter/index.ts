// Exporters: commit an image model into the store (config + manifest), then write it out: local tags,
// OCI layout (dir or tar), docker archive, flattened rootfs, registry push.
export { commitImage } from './commit.js';
export { commitOptionsFor, exportImage, exportImages } from './export.js';
export {
  dropUntagged,
  findImage,
  isUntaggedRecord,
  listImages,
  loadImage,
  recordImage,
  recordUntagged,
  removeImage,
  tagImage,
} from './image-store.js';
export { parseOutput, parseOutputs } from './output-spec.js';
export type * from './types.js';
