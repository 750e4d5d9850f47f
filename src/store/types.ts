import type { Readable, Writable } from 'node:stream';
import type { BlobRef, Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';

/** What the store knows about one blob. */
export interface BlobInfo extends BlobRef {
  /** Last modification of the blob file (ms since epoch): when it was committed. */
  createdAt: number;
}

/** Provider: read committed blobs. */
export interface Provider {
  info(digest: Digest): Promise<BlobInfo>;
  /**
   * Streams the blob (`end` inclusive, as fs.createReadStream). Throws BLOB_NOT_FOUND if absent.
   * `verify` (whole blobs only): the stream fails with STORE_CORRUPT at its end if the bytes no
   * longer hash to the digest; exporters read with it, so a damaged blob never leaves the store.
   */
  read(digest: Digest, opts?: { start?: number; end?: number; verify?: boolean }): Promise<Readable>;
  /** Reads up to `length` bytes at `offset` into a new buffer (short at EOF). */
  readAt(digest: Digest, offset: number, length: number): Promise<Buffer>;
  has(digest: Digest): Promise<boolean>;
  /** The blob's path on disk (for tools that want a file, e.g. zero-copy). Exists only if `has`. */
  blobPath(digest: Digest): string;
}

export interface WriterOptions {
  /** Names the ingest (e.g. a registry blob URL, or the digest). Same ref = same lock. */
  ref: string;
  /** When known, checked at commit: a mismatch is an error and nothing becomes visible. */
  expected?: Partial<BlobRef>;
  /** Told the count of bytes on disk after each write (a prefix: writes land in order). */
  onWritten?: (bytes: number) => void;
  /**
   * The caller hashes these very bytes in this process as they stream in (an uncompressed layer's
   * tar, whose diffID is its digest): the writer takes the digest from here at commit instead of
   * hashing everything a second time (160 ms of a core per 170 MB here). Never for bytes from outside.
   */
  hashedBy?: () => Digest;
}

/**
 * Watches an ingest land, for a consumer that reads a blob before it is complete (a layer unpacked
 * as it downloads). `started` names the data file before its first byte; bytes land in order from
 * offset 0. The commit renames the file into blobs/ (or drops it when the blob was there first), so
 * a reader opens it in `started` and reads through that fd. Nothing here says the bytes are right:
 * only the ingest's own result does.
 */
export interface IngestObserver {
  started?(path: string): void;
  written?(bytes: number): void;
}

/** A writable that hashes while writing. `commit()` verifies, fsyncs, renames into blobs/. */
export interface ContentWriter extends Writable {
  readonly ref: string;
  /** Bytes written so far. */
  readonly offset: number;
  /** Ends the stream if not ended, verifies size/digest, publishes the blob. Resolves to its ref. */
  commit(expected?: Partial<BlobRef>): Promise<BlobRef>;
  /** Drops the ingest (nothing visible), releases the lock. */
  abort(): Promise<void>;
}

/** Ingester: write blobs. */
export interface Ingester {
  writer(opts: WriterOptions): Promise<ContentWriter>;
  /** Convenience: pipe a readable (or bytes) into a writer and commit. An existing blob is success. */
  ingest(
    source: Readable | Uint8Array | string,
    expected?: Partial<BlobRef>,
    observer?: IngestObserver,
  ): Promise<BlobRef>;
}

export interface IngestStatus {
  ref: string;
  /** Bytes in the ingest's data file. */
  offset: number;
  /** Age of the ingest (ms since its last write). */
  ageMs: number;
  /** A live process holds its lock. */
  locked: boolean;
}

/** Manager: list and delete. */
export interface Manager {
  walk(fn: (info: BlobInfo) => void | Promise<void>): Promise<void>;
  delete(digest: Digest): Promise<boolean>;
  status(): Promise<IngestStatus[]>;
  /**
   * Removes ingests whose writer is gone (no live lock holder). Lock-less dirs younger than 10 s are
   * spared (a writer may be between mkdir and its lock) unless `force`.
   */
  cleanIngests(opts?: { olderThanMs?: number; force?: boolean }): Promise<number>;
}

export interface ContentStore extends Provider, Ingester, Manager {
  readonly root: string;
}

/** A mount, as data (containerd style). `source` paths are relative to `cwd` when `cwd` is set. */
export interface Mount {
  type: 'overlay' | 'bind';
  source: string;
  options: string[];
  /** Directory to run mount(8) in, so overlay lowerdir paths can be short and relative. */
  cwd?: string;
}

export type SnapshotKind = 'active' | 'view' | 'committed';

export interface SnapshotInfo {
  /** The key (active/view) or name (committed). */
  name: string;
  kind: SnapshotKind;
  parent?: string;
  /** Short on-disk id: `<root>/snapshots/<id>/fs`. */
  id: string;
  createdAt: number;
  labels?: Record<string, string>;
  /** Creator of an active/view snapshot: gc leaves it alone while this process lives. */
  pid?: number;
}

export interface SnapshotUsage {
  size: number;
  inodes: number;
}

export type SnapshotterKind = 'overlay' | 'copy';

export interface PrepareOptions {
  labels?: Record<string, string>;
  contents?: string;
}

export interface Snapshotter {
  /** Which implementation is in use ('copy' where overlay cannot mount: progress says so). */
  readonly kind: SnapshotterKind;
  /**
   * A new writable snapshot on top of `parent` (a committed name). Returns how to mount it. With
   * `contents` (overlay only: a dir on the store's filesystem, e.g. a layer unpacked before its parent
   * was committed) that dir is moved in as the snapshot's upper instead of an empty one.
   */
  prepare(key: string, parent?: string, opts?: PrepareOptions): Promise<Mount[]>;
  /** A read-only view of `parent`. */
  view(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<Mount[]>;
  /** The mounts of an existing active/view snapshot. */
  mounts(key: string): Promise<Mount[]>;
  /** Turns an active snapshot into a committed one named `name`; its upper dir is the diff. */
  commit(name: string, key: string, opts?: { labels?: Record<string, string> }): Promise<SnapshotInfo>;
  /** Removes a snapshot. A committed snapshot with children is an error (SNAPSHOT_IN_USE). */
  remove(key: string): Promise<void>;
  stat(key: string): Promise<SnapshotInfo>;
  /** undefined if it does not exist. */
  tryStat(key: string): Promise<SnapshotInfo | undefined>;
  walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void>;
  usage(key: string): Promise<SnapshotUsage>;
  /**
   * The directory holding the snapshot's diff (overlay upper: whiteouts as char 0/0, opaque dirs by
   * xattr). For an active snapshot this is where a COPY writes; for a committed one the exporter
   * turns it into a layer tar. (Copy snapshotter: the full tree; its diff is computed against the parent.)
   */
  diffDir(key: string): string;
  /** The lower dirs (nearest parent first) of a snapshot: what the diff sits on. */
  lowerDirs(key: string): Promise<string[]>;
}

/** A tag: name (e.g. `docker.io/library/app:latest`) → manifest or index descriptor. */
export interface TagRecord {
  name: string;
  target: Descriptor;
  createdAt: number;
  updatedAt: number;
  /**
   * The image's manifest digest in this name's registry (docker's RepoDigests): the target itself
   * when pulled, what a push of it produced (layers compressed on the way out, so another digest);
   * null for an image no registry has seen. Absent in records older than this field.
   */
  repoDigest?: Digest | null;
}

/** A cache record: a solver cache key → the snapshot (and/or blobs) it produced. */
export interface CacheRecord {
  key: string;
  /** A committed snapshot name. */
  snapshot?: string;
  /** Blobs the result needs (e.g. image config, manifest). */
  blobs?: Digest[];
  /** Free-form result for the solver (JSON-serializable). */
  result?: unknown;
  createdAt: number;
  lastUsed: number;
  /** Bytes it accounts for (filled in by du/prune). */
  size?: number;
}

/** A lease keeps blobs and snapshots alive while a build is in flight (gc roots). */
export interface Lease {
  id: string;
  createdAt: number;
  /** Expires after this time (ms since epoch), so a crashed build does not pin forever. */
  expiresAt: number;
  /** PID of the owner: a lease of a dead process is ignored by gc. */
  pid?: number;
  blobs: Digest[];
  snapshots: string[];
  ingests?: string[];
}

/** Remembers layer compression: diffID (+ codec + level) → compressed blob. */
export interface LayerRecord {
  diffId: Digest;
  compression: LayerCompression;
  level?: number;
  digest: Digest;
  size: number;
  mediaType: string;
}

export type LayerCompression = 'gzip' | 'zstd' | 'uncompressed';

/** What createLayer remembers for one snapshot (and SOURCE_DATE_EPOCH, which changes the tar). */
export interface LayerCacheEntry {
  snapshot: string;
  /**
   * The snapshot's on-disk id when the layer was made. Names are cache keys (`k-<key>`), so a step
   * that runs again after a prune commits a snapshot of the same name with new content (a RUN's
   * output need not repeat); its id is new. A record of another id (or none: written before ids
   * were kept) is not this snapshot's layer.
   */
  snapshotId?: string;
  sourceDateEpoch?: number;
  diffId: Digest;
  uncompressedSize: number;
  layers: LayerRecord[];
}

/** The key of a LayerCacheEntry in `meta.layers`. */
export function layerCacheKey(snapshot: string, sourceDateEpoch?: number): string {
  return `${snapshot}\n${sourceDateEpoch ?? ''}`;
}

/** Small keyed JSON documents (temp-then-rename files). */
export interface KeyedStore<T> {
  get(key: string): Promise<T | undefined>;
  put(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Every record; `{ apart: false }` leaves out those the store keeps apart (see FileKeyedStore). */
  list(opts?: { apart?: boolean }): Promise<T[]>;
  keys(): Promise<string[]>;
}

export interface MetaStore {
  readonly root: string;
  tags: KeyedStore<TagRecord>;
  cache: KeyedStore<CacheRecord>;
  leases: KeyedStore<Lease>;
  /** snapshot name → diffID → compressed layers, so a second export costs no compression. */
  layers: KeyedStore<LayerCacheEntry>;
  /**
   * Raw small files under hashed keys, `meta/statcache/<key>`: the context module's stat cache, and
   * the http source's ETag records (keys prefixed `http-etag\0`, which no context path can take).
   */
  statCache: {
    read(key: string): Promise<Buffer | undefined>;
    write(key: string, data: Uint8Array): Promise<void>;
    path(key: string): string;
  };
  /** A lease for the duration of `fn` (gc will not take what it lists). */
  withLease<T>(fn: (lease: LeaseHandle) => Promise<T>, opts?: { ttlMs?: number }): Promise<T>;
  createLease(opts?: { ttlMs?: number }): Promise<LeaseHandle>;
}

export interface LeaseHandle {
  readonly id: string;
  addBlob(digest: Digest): Promise<void>;
  addSnapshot(name: string): Promise<void>;
  release(): Promise<void>;
}

export interface GcOptions {
  /** Also drop cache records (not tags): `prune --all`. Default: only unreferenced content. */
  all?: boolean;
  /** Drop cache records not used for this long (ms). */
  olderThanMs?: number;
  /** Drop least-recently-used cache records until the store uses at most this many bytes. */
  keepBytes?: number;
  dryRun?: boolean;
}

export interface GcResult {
  blobsRemoved: number;
  snapshotsRemoved: number;
  cacheRecordsRemoved: number;
  ingestsRemoved: number;
  /** `RUN --mount=type=cache` dirs (`all` only, and only while no build runs). */
  cacheMountsRemoved: number;
  bytesFreed: number;
}

export interface FsckProblem {
  kind: 'blob' | 'snapshot' | 'ingest' | 'meta' | 'tmp';
  id: string;
  problem: string;
  /** A leftover of an interrupted writer (stale ingest, temp file, orphan dir): not an inconsistency. */
  garbage?: boolean;
  repaired: boolean;
}

export interface FsckResult {
  ok: boolean;
  checkedBlobs: number;
  checkedSnapshots: number;
  problems: FsckProblem[];
}

export interface DiskUsageEntry {
  kind: 'blobs' | 'snapshots' | 'cache' | 'cache-mounts' | 'ingest' | 'meta' | 'tmp';
  count: number;
  size: number;
  /** Part of size that gc (prune) could free right now. */
  reclaimable: number;
}

export interface Store {
  readonly root: string;
  content: ContentStore;
  snapshots: Snapshotter;
  meta: MetaStore;
  /** A fresh directory under `<root>/tmp` (removed by fsck --repair when stale). */
  tempDir(prefix?: string): Promise<string>;
  gc(opts?: GcOptions): Promise<GcResult>;
  fsck(opts?: { repair?: boolean }): Promise<FsckResult>;
  du(): Promise<DiskUsageEntry[]>;
  /** Releases locks held by this process. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Force the snapshotter; default: overlay if it mounts here, else copy. */
  snapshotter?: SnapshotterKind;
}
