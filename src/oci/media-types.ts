/** Media types of the OCI image spec and of Docker's image manifest v2 schema 2. */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export type Compression = 'gzip' | 'zstd' | 'uncompressed';

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerManifestList;
}

export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociManifest || mt === MediaType.dockerManifest;
}

export function isDockerMediaType(mt: string): boolean {
  return mt.startsWith('application/vnd.docker.');
}

/** The layer media type for a compression; Docker has no zstd type, so zstd is always OCI (as BuildKit). */
export function layerMediaType(compression: Compression, oci: boolean): string {
  if (compression === 'zstd') return MediaType.ociLayerZstd;
  if (compression === 'gzip') return oci ? MediaType.ociLayerGzip : MediaType.dockerLayerGzip;
  return oci ? MediaType.ociLayer : MediaType.dockerLayer;
}

/** The compression of a layer media type, or undefined if it is not a layer type we can read. */
export function layerCompression(mt: string): Compression | undefined {
  switch (mt) {
    case MediaType.ociLayer:
    case MediaType.dockerLayer:
      return 'uncompressed';
    case MediaType.ociLayerGzip:
    case MediaType.dockerLayerGzip:
    case MediaType.dockerForeignLayerGzip:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip':
      return 'gzip';
    case MediaType.ociLayerZstd:
      return 'zstd';
    default:
      return undefined;
  }
}

/** Accept header for manifest requests: both OCI and Docker, manifests and indexes. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(', ');
