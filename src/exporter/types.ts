import type {
  Compression,
  Descriptor,
  Digest,
  HistoryEntry,
  ImageConfig,
  ImageManifest,
  Platform,
} from '../oci/index.js';
import type { RegistryClient, TransferProgress } from '../registry/index.js';

/** One layer of an image being committed: a committed snapshot (diff) or a blob already in the store. */
/**
 * A layer of an image being made: a snapshot this store made, or a blob (a base image's layer, or
 * one an imported build cache brought, with `created`: when the step that made it ran, which dates
 * its history entry as the snapshot's own time would).
 */
export type ImageLayer =
  | { snapshot: string; diffId?: Digest }
  | { blob: Descriptor; diffId: Digest; created?: number };

/**
 * The image the solver hands to the exporter. `config.rootfs` and `config.history` are filled in by
 * `commitImage` from `layers` and `history` (history entries with `empty_layer` take no layer).
 */
export interface ImageModel {
  config: Omit<ImageConfig, 'rootfs' | 'history'> & Partial<Pick<ImageConfig, 'rootfs' | 'history'>>;
  layers: ImageLayer[];
  /** One entry per step; entries without `empty_layer: true` correspond to `layers` in order. */
  history?: HistoryEntry[];
  /** Manifest annotations. */
  annotations?: Record<string, string>;
}

export interface CommitOptions {
  /** OCI media types (default) or Docker's (`--oci-mediatypes=false`). */
  ociMediaTypes?: boolean;
  compression?: Compression;
  level?: number;
  /** Re-compress layers whose stored blob uses another compression (buildx `force-compression`). */
  forceCompression?: boolean;
  /** Compress stored uncompressed blob layers with `compression` (an image leaving the machine). */
  compressUncompressed?: boolean;
  sourceDateEpoch?: number;
}

export interface CommittedImage {
  /** The manifest's descriptor (in the content store). */
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  configDescriptor: Descriptor;
}

export type OutputType = 'image' | 'oci' | 'docker' | 'local' | 'tar' | 'registry';

/** One `--output` (buildx syntax), parsed. */
export interface OutputSpec {
  type: OutputType;
  /** File or directory; `-` = stdout for tar kinds. */
  dest?: string;
  /** oci/docker: write a tar (default) or a directory (`tar=false`). */
  tar: boolean;
  /** Image names (`name=a,b`), added to the build's `-t` tags. */
  names: string[];
  /** Push after export (`push=true`, implied by type=registry). */
  push: boolean;
  compression?: Compression;
  compressionLevel?: number;
  forceCompression: boolean;
  ociMediaTypes?: boolean;
  /** `rewrite-timestamp=true`: the build's layers' mtimes clamped to SOURCE_DATE_EPOCH (BuildKit >= 0.13). */
  rewriteTimestamp?: boolean;
  /** Everything else given (kept so nothing is silently ignored: unknown keys are errors). */
  attrs: Record<string, string>;
}

export interface ExportContext {
  /** `-t` tags (normalized references as strings), used by image/docker/registry outputs. */
  tags?: string[];
  registry?: RegistryClient;
  platform?: Platform;
  signal?: AbortSignal;
  onProgress?: TransferProgress;
  /** An image a `-t` tag moves away from stays as `<none>` (see `tagImage`). */
  keepReplaced?: boolean;
  /**
   * SOURCE_DATE_EPOCH, seconds: as BuildKit's exporters, the mtime of every file a local or tar
   * output writes, the `org.opencontainers.image.created` of an oci/docker archive's index entry,
   * and, with `rewrite-timestamp=true`, the clamp of the build's own layers' mtimes.
   */
  epoch?: number;
  /**
   * `org.opencontainers.image.created` of an oci/docker archive's index entries (RFC 3339), as
   * BuildKit's oci exporter writes it: the export's time, or SOURCE_DATE_EPOCH. Builds set it; `save`
   * does not (docker save writes none).
   */
  indexCreated?: string;
  /** `--annotation index:…`: a multi-platform index's own annotations. */
  indexAnnotations?: Record<string, string>;
}

export interface ExportResult {
  output: OutputSpec;
  /** Manifest digest of the exported image. */
  digest: Digest;
  configDigest: Digest;
  /** Tags written (image) or pushed (registry). */
  tags: string[];
  dest?: string;
  /** The image manifest written (absent when an index was exported as is): saves reading it back. */
  image?: { descriptor: Descriptor; manifest: ImageManifest; config: ImageConfig };
}

/** An image in the local store, as `tsbuild images` lists it. */
export interface LocalImage {
  name: string;
  tag?: string;
  digest: Digest;
  mediaType: string;
  /** The config digest: the image id. */
  id: Digest;
  created?: string;
  /** Compressed size of config + layers + manifest. */
  size: number;
  /** The image's digest in this repository's registry, when known (docker's RepoDigests). */
  repoDigest?: Digest;
  /** The layers' sizes as dockerd's layer store counts them (`docker images` SIZE): layerDiffSize. */
  unpackedSize: number;
}
