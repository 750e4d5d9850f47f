import type { Readable } from 'node:stream';
import type {
  Descriptor,
  Digest,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  ImageReference,
  Platform,
} from '../oci/index.js';

/** Bytes moved for one blob or manifest; a plain callback so any renderer can consume it. */
export interface TransferEvent {
  /** Short id: the digest's first 12 hex characters, as Docker prints. */
  id: string;
  current: number;
  total: number;
  status: 'waiting' | 'exists' | 'mounted' | 'downloading' | 'uploading' | 'verifying' | 'done' | 'retrying';
}
export type TransferProgress = (event: TransferEvent) => void;

/**
 * What the registry module needs of the content store (structural: the store's `Store` fits it, and
 * the registry does not import the store module). The store verifies size and digest on ingest and
 * never shows a partial blob.
 */
export interface RegistryContent {
  has(digest: Digest): Promise<boolean>;
  info(digest: Digest): Promise<{ digest: Digest; size: number }>;
  read(digest: Digest, opts?: { start?: number; end?: number }): Promise<Readable>;
  ingest(
    source: Readable | Uint8Array | string,
    expected?: { digest?: Digest; size?: number },
    observer?: { started?(path: string): void; written?(bytes: number): void },
  ): Promise<{ digest: Digest; size: number }>;
}
export interface RegistryStore {
  readonly root: string;
  content: RegistryContent;
}

export interface RegistryOptions {
  /** Hosts (host[:port]) spoken to over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureRegistries?: string[];
  /** Directory of config.json (default `$DOCKER_CONFIG` or `~/.docker`). */
  dockerConfigDir?: string;
  /** Parallel blob transfers (default 4). */
  concurrency?: number;
  /** Blobs above this size are pushed in chunks (default 16 MiB). */
  chunkThreshold?: number;
  /** Chunk size for chunked uploads (default 16 MiB, raised to OCI-Chunk-Min-Length). */
  chunkSize?: number;
  /** Retries of one request on 5xx/reset/timeout (default 4), with backoff from `retryBaseMs` (default 200). */
  retries?: number;
  retryBaseMs?: number;
  /** Idle timeout of one request in ms (default 60 s). */
  timeoutMs?: number;
  userAgent?: string;
  /** Per-registry CA certificates, Docker style: `<certsDir>/<host[:port]>/*.crt` (default /etc/docker/certs.d). */
  certsDir?: string;
}

export interface PullOptions {
  platform?: Platform;
  /**
   * A single-platform image must match `platform` (as `docker pull --platform`); without this it is
   * taken whatever its platform (BuildKit only warns for a FROM of another platform).
   */
  requirePlatform?: boolean;
  signal?: AbortSignal;
  onProgress?: TransferProgress;
}

export interface PullResult {
  /** The reference resolved to the manifest's digest (tag kept). */
  ref: ImageReference;
  /** The platform manifest (not the index). */
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  configDigest: Digest;
  /** The index the tag pointed at, if it was one, and its descriptor. */
  index?: { descriptor: Descriptor; index: ImageIndex };
}

export interface PushOptions {
  signal?: AbortSignal;
  onProgress?: TransferProgress;
}

export interface PushResult {
  ref: ImageReference;
  digest: Digest;
  /** Counts for tests and benchmarks: blobs uploaded, skipped (already there), mounted. */
  uploaded: number;
  skipped: number;
  mounted: number;
}
