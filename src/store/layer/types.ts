import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';
import type { LayerCompression as Compression } from '../types.js';

export interface LayerTarOptions {
  /** Clamp mtimes to this (seconds since epoch), as BuildKit does with SOURCE_DATE_EPOCH. */
  sourceDateEpoch?: number;
  /**
   * Directories below the diff (nearest first). Used to leave out the mount stubs a runtime left
   * (empty /etc/hosts, /etc/resolv.conf, /etc/hostname, /proc, /sys, /dev) that do not exist below.
   * Omit to keep everything.
   */
  lowerDirs?: string[];
  /** Overlay userxattr mode: opaque is `user.overlay.opaque` instead of `trusted.overlay.opaque`. */
  userxattr?: boolean;
  /**
   * 'overlay' (default): the dir is an overlay upper (char 0/0 = whiteout, opaque xattr).
   * 'plain': the dir is a plain tree, written as-is (char devices are devices).
   */
  source?: 'overlay' | 'plain';
}

export interface LayerTarResult {
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  size: number;
  entries: number;
}

export interface CompressedLayer {
  diffId: Digest;
  digest: Digest;
  size: number;
  mediaType: string;
  compression: Compression;
  uncompressedSize: number;
}

export interface CreateLayerOptions {
  compression?: Compression;
  /** gzip 1-9 (default 6), zstd 1-19 (default 3). */
  level?: number;
  sourceDateEpoch?: number;
  /** Docker media types (`application/vnd.docker.image.rootfs.diff.tar.gzip`) instead of OCI. */
  docker?: boolean;
  /** Stops the tar walk (the ingest is dropped). Another caller joined to it makes the layer itself. */
  signal?: AbortSignal;
}

export interface ExtractOptions {
  /**
   * 'overlay': into an empty overlay-ready diff dir (whiteouts → char 0/0, opaque → xattr).
   * 'flat': onto a plain tree (whiteouts delete, opaque empties), e.g. `--output type=local`.
   */
  mode: 'overlay' | 'flat';
  /** Device nodes: 'create' (default for root in overlay mode), 'skip' (default otherwise), 'error'. */
  devices?: 'create' | 'skip' | 'error';
  /** Keep ownership from the tar (default: true when root). */
  sameOwner?: boolean;
  userxattr?: boolean;
  /** Every entry's mtime (seconds) instead of the tar's: BuildKit's local/tar exporters under SOURCE_DATE_EPOCH. */
  mtime?: number;
}

export interface ExtractResult {
  entries: number;
  /** Bytes of tar consumed. */
  size: number;
  /** sha256 of the tar consumed (the diffID when the input is uncompressed). */
  diffId: Digest;
}

export interface ApplyLayerOptions {
  /** Media type of the blob (decides decompression); default: sniffed from magic bytes. */
  mediaType?: string;
  /** Expected digest of the (compressed) input: verified at EOF, mismatch → nothing committed. */
  expectedDigest?: Digest;
  /** Expected diffID (uncompressed digest), verified at EOF. */
  expectedDiffId?: Digest;
  /** Name of the committed snapshot; default `layer-<diffID hex>` under the parent's chain id. */
  name?: string;
}

export interface AppliedLayer {
  /** The committed snapshot's name. */
  snapshot: string;
  diffId: Digest;
  /** Digest of the input as read (compressed). */
  digest: Digest;
  size: number;
}

export type LayerSource = Digest | Readable;

/**
 * A blob still downloading into the store (structural: the registry's LayerFeed fits). `file` names
 * the ingest's data file before its first byte, or is undefined when there is no download; `bytes`
 * from offset 0 are on disk; `onBytes` hears each write and returns its unsubscribe.
 */
export interface GrowingBlob {
  readonly file: Promise<string | undefined>;
  readonly bytes: number;
  onBytes(fn: (bytes: number) => void): () => void;
}
