import type { LayerCompression as Compression } from '../types.js';

export const LAYER_MEDIA_TYPES = {
  oci: {
    uncompressed: 'application/vnd.oci.image.layer.v1.tar',
    gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
    zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  },
  docker: {
    uncompressed: 'application/vnd.docker.image.rootfs.diff.tar',
    gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
    zstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  },
} as const;

export function layerMediaType(compression: Compression, docker = false): string {
  return LAYER_MEDIA_TYPES[docker ? 'docker' : 'oci'][compression];
}

/** The compression a layer media type implies; undefined when the media type is not a layer. */
export function compressionOfMediaType(mediaType: string): Compression | undefined {
  const mt = mediaType.toLowerCase();
  if (mt.endsWith('+zstd') || mt.endsWith('.tar.zstd')) return 'zstd';
  if (mt.endsWith('+gzip') || mt.endsWith('.tar.gzip') || mt.endsWith('.tar.gz')) return 'gzip';
  if (
    mt.endsWith('.layer.v1.tar') ||
    mt.endsWith('.rootfs.diff.tar') ||
    mt.endsWith('.nondistributable.v1.tar') ||
    mt === 'application/x-tar'
  )
    return 'uncompressed';
  if (mt === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip') return 'gzip';
  return undefined;
}
