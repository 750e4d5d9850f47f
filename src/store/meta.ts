import { randomBytes } from 'node:crypto';
import { promises as fsp, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashName, isEnoent, isTempName, pidAlive, tempNameFor, writeFileAtomic } from './atomic.js';
import { waitForRunningGcs } from './gc-marker.js';
import { batchedLease } from './lease-handle.js';
import {
  type CacheRecord,
  type KeyedStore,
  type LayerCacheEntry,
  type Lease,
  type LeaseHandle,
  layerCacheKey,
  type MetaStore,
  type TagRecord,
} from './types.js';

/**
 * Metadata as small JSON files, one per key, written temp-then-rename. Chosen over an embedded
 * database: no native dependency, each write is atomic on its own, several processes can share a store
 * without a server, and a kill -9 leaves at worst a `.tmp-` file that fsck removes.
 */
export class FileKeyedStore<T extends object> implements KeyedStore<T> {
  readonly dir: string;
  readonly #keyOf: (v: T) => string;
  readonly #apart: (key: string) => boolean;

  /**
   * `apart`: keys whose files are named `<hash>.u.json`, so that a listing can leave them out
   * unread. Untagged images are kept apart from tags: every build of a tag that moved asks whether
   * another tag names the image it left, and a store accumulates an untagged record per rebuild
   * (248 of them: ~6 ms of each build's export, read for nothing). Such a record written before
   * this naming is still found under its plain name.
   */
  constructor(dir: string, keyOf: (v: T) => string, apart: (key: string) => boolean = () => false) {
    this.dir = dir;
    this.#keyOf = keyOf;
    this.#apart = apart;
  }

  /** Keys may be anything (tag names with `/` and `:`); the file name is a hash of the key. */
  pathOf(key: string): string {
    return join(this.dir, `${hashName(key)}${this.#apart(key) ? APART : ''}.json`);
  }

  /** Where a kept-apart key's record was written before it was kept apart. */
  #plainPath(key: string): string | undefined {
    return this.#apart(key) ? join(this.dir, `${hashName(key)}.json`) : undefined;
  }

  async get(key: string): Promise<T | undefined> {
    const plain = this.#plainPath(key);
    const v = readJsonSync<T>(this.pathOf(key)) ?? (plain !== undefined ? readJsonSync<T>(plain) : undefined);
    return v !== undefined && this.#keyOf(v) === key ? v : undefined;
  }

  async put(key: string, value: T): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.pathOf(key), JSON.stringify(value));
    const plain = this.#plainPath(key);
    if (plain !== undefined) rmSync(plain, { force: true });
  }

  async delete(key: string): Promise<boolean> {
    const plain = this.#plainPath(key);
    let found = false;
    for (const p of plain !== undefined ? [this.pathOf(key), plain] : [this.pathOf(key)]) {
      try {
        await fsp.unlink(p);
        found = true;
      } catch (e) {
        if (!isEnoent(e)) throw e;
      }
    }
    return found;
  }

  async list(opts: { apart?: boolean } = {}): Promise<T[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (e) {
      if (isEnoent(e)) return [];
      throw e;
    }
    const out: T[] = [];
    for (const n of names.sort()) {
      if (!n.endsWith('.json') || isTempName(n)) continue;
      if (opts.apart === false && n.endsWith(`${APART}.json`)) continue;
      try {
        const v = readJsonSync<T>(join(this.dir, n));
        if (v !== undefined) out.push(v);
      } catch {
        // A corrupt record is fsck's business; listing goes on.
      }
    }
    return out;
  }

  async keys(): Promise<string[]> {
    return (await this.list()).map(this.#keyOf);
  }
}

const APART = '.u';

const DAY = 24 * 3600 * 1000;

export class FileMetaStore implements MetaStore {
  readonly root: string;
  readonly tags: FileKeyedStore<TagRecord>;
  readonly cache: FileKeyedStore<CacheRecord>;
  readonly leases: FileKeyedStore<Lease>;
  readonly layers: FileKeyedStore<LayerCacheEntry>;
  readonly statCache: MetaStore['statCache'];

  constructor(root: string) {
    this.root = root;
    // Untagged images (records keyed by their digest) apart from tags: see FileKeyedStore.
    this.tags = new FileKeyedStore(
      join(root, 'tags'),
      (t) => t.name,
      (k) => k.startsWith('sha256:'),
    );
    this.cache = new FileKeyedStore(join(root, 'cache'), (c) => c.key);
    this.leases = new FileKeyedStore(join(root, 'leases'), (l) => l.id);
    this.layers = new FileKeyedStore(join(root, 'layers'), (l) =>
      layerCacheKey(l.snapshot, l.sourceDateEpoch),
    );
    const statDir = join(root, 'statcache');
    const pathOf = (key: string) => join(statDir, hashName(key));
    this.statCache = {
      path: pathOf,
      read: async (key) =>
        fsp.readFile(pathOf(key)).catch((e) => (isEnoent(e) ? undefined : Promise.reject(e))),
      write: async (key, data) => {
        await fsp.mkdir(statDir, { recursive: true });
        await writeFileAtomic(pathOf(key), data);
      },
    };
  }

  async init(): Promise<void> {
    // Sync: each finds its dir there on an existing store (see openStore).
    for (const d of ['tags', 'cache', 'leases', 'layers', 'statcache', 'snapshots'])
      mkdirSync(join(this.root, d), { recursive: true });
  }

  async createLease(opts: { ttlMs?: number } = {}): Promise<LeaseHandle> {
    const now = Date.now();
    const lease: Lease = {
      id: `lease-${now}-${randomBytes(6).toString('hex')}`,
      createdAt: now,
      expiresAt: now + (opts.ttlMs ?? DAY),
      pid: process.pid,
      blobs: [],
      snapshots: [],
    };
    const path = this.leases.pathOf(lease.id);
    const write = (text: string) => replaceFile(path, text);
    await write(JSON.stringify(lease));
    return batchedLease(lease, {
      write,
      // A gc that read the leases before this update may still drop what it names: wait it out.
      waitGcs: () => waitForRunningGcs(this.root),
      remove: () => this.leases.delete(lease.id),
    });
  }

  async withLease<T>(fn: (lease: LeaseHandle) => Promise<T>, opts: { ttlMs?: number } = {}): Promise<T> {
    const lease = await this.createLease(opts);
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }

  /** Leases that still protect content: not expired and (if they name one) their process is alive. */
  async liveLeases(now = Date.now()): Promise<Lease[]> {
    return (await this.leases.list()).filter((l) => isLiveLease(l, now));
  }
}

/** Not expired and (if it names one) its process is alive. */
export function isLiveLease(l: Lease, now = Date.now()): boolean {
  return l.expiresAt > now && (l.pid === undefined || pidAlive(l.pid));
}

/**
 * A record read with sync calls: these files are small, and the promise API's four round trips
 * (open, fstat, read, close) cost ~0.15 ms of main-thread CPU each, sync ~20 µs. Undefined if absent;
 * a corrupt file is an error (fsck reports it).
 */
function readJsonSync<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (isEnoent(e)) return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

/**
 * Temp file, then rename over: atomic for readers, but not fsynced. For leases only: a lease names a
 * live process, so after a crash (the only time a missing fsync shows) it protects nothing anyway, and
 * two fsyncs per update were most of a cached rebuild's own time. A torn lease file left by a power
 * loss is skipped by listings as corrupt and removed by fsck, as before. Sync calls: without the
 * fsync this is page-cache work of some 50 µs, less than the promise API's four round trips.
 */
async function replaceFile(path: string, text: string): Promise<void> {
  const tmp = tempNameFor(path);
  try {
    writeFileSync(tmp, text, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
