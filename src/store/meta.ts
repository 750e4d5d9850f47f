import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isEnoent, isTempName, pidAlive, tempNameFor, writeFileAtomic } from './atomic.js';
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

  constructor(dir: string, keyOf: (v: T) => string) {
    this.dir = dir;
    this.#keyOf = keyOf;
  }

  /** Keys may be anything (tag names with `/` and `:`); the file name is a hash of the key. */
  pathOf(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.json`);
  }

  async get(key: string): Promise<T | undefined> {
    const v = readJsonSync<T>(this.pathOf(key));
    return v !== undefined && this.#keyOf(v) === key ? v : undefined;
  }

  async put(key: string, value: T): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.pathOf(key), JSON.stringify(value));
  }

  async delete(key: string): Promise<boolean> {
    try {
      await fsp.unlink(this.pathOf(key));
      return true;
    } catch (e) {
      if (isEnoent(e)) return false;
      throw e;
    }
  }

  async list(): Promise<T[]> {
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
    this.tags = new FileKeyedStore(join(root, 'tags'), (t) => t.name);
    this.cache = new FileKeyedStore(join(root, 'cache'), (c) => c.key);
    this.leases = new FileKeyedStore(join(root, 'leases'), (l) => l.id);
    this.layers = new FileKeyedStore(join(root, 'layers'), (l) =>
      layerCacheKey(l.snapshot, l.sourceDateEpoch),
    );
    const statDir = join(root, 'statcache');
    const pathOf = (key: string) =>
      join(statDir, createHash('sha256').update(key).digest('hex').slice(0, 40));
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
