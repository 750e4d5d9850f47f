import {
  closeSync,
  promises as fsp,
  fsync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashName, isEnoent, isTempName, pidAlive, readJson, tempNameFor } from '../atomic.js';
import { StoreError } from '../errors.js';
import type { SnapshotInfo, SnapshotKind } from '../types.js';

const fsyncAsync = promisify(fsync);

/** The pid a marker names; 0 (no process) when it is gone or says nothing. */
function markerPid(path: string): number {
  try {
    return Number(readFileSync(path, 'utf8')) || 0;
  } catch {
    return 0;
  }
}

/**
 * Snapshot records: `meta/snapshots/<hash(name)>.json` → { name, kind, parent, id }. The data lives
 * in `snapshots/<id>/{fs,work}` with short numeric ids, so overlay option strings stay short.
 * Records are created exclusively (temp file + link), so two processes cannot both create one name.
 */
export class SnapshotRecords {
  readonly recordsDir: string;
  readonly dataDir: string;
  /** Beside the records' dir, not in it: whatever reads that dir reads records only. */
  readonly liveDir: string;
  #nextId = 0;
  /**
   * Chains of committed snapshots `chain` walked, by their top's name, with the top record file's
   * identity. While a snapshot exists its parents cannot be removed (remove refuses: it has a
   * child), so a top whose record is still the same file (same inode made at the same time) still
   * has that chain. A record removed and made again (a prune in another process, then the same layer
   * applied anew, maybe with another id) is a new file: walked again. Each step's prepare then
   * reads its parent and one stat, not every record below it (an image of 130 layers read ~8,500
   * records while applying them).
   */
  readonly #chains = new Map<string, { ino: bigint; ctime: bigint; chain: SnapshotInfo[] }>();

  constructor(recordsDir: string, dataDir: string) {
    this.recordsDir = recordsDir;
    this.dataDir = dataDir;
    this.liveDir = `${recordsDir}-live`;
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.recordsDir, { recursive: true });
    await fsp.mkdir(this.liveDir, { recursive: true });
    await fsp.mkdir(this.dataDir, { recursive: true });
  }

  pathOf(name: string): string {
    return join(this.recordsDir, `${hashName(name)}.json`);
  }

  /**
   * `meta/snapshots-live/<hash>`: a marker for each active or view record (its content: the pid
   * that made it), made before the record and removed after it. Opening the store looks there
   * only for a killed build's scratch snapshots: a long-lived store has hundreds of committed
   * records, and reading them all took ~15 ms of every build's start-up. (A store from before the
   * markers: its leftovers go at the next prune.)
   */
  markerOf(name: string): string {
    return join(this.liveDir, hashName(name));
  }

  /** The records that have a marker; a dead process's marker whose record is gone is removed. */
  liveSync(): SnapshotInfo[] {
    const dir = this.liveDir;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    const out: SnapshotInfo[] = [];
    for (const n of names) {
      if (isTempName(n)) continue;
      try {
        out.push(JSON.parse(readFileSync(join(this.recordsDir, `${n}.json`), 'utf8')) as SnapshotInfo);
      } catch (e) {
        // No record: one being made or removed right now, or made or removed around a kill -9.
        if (isEnoent(e) && !pidAlive(markerPid(join(dir, n)))) rmSync(join(dir, n), { force: true });
      }
    }
    return out;
  }

  /**
   * Records are read and written with synchronous calls (create's fsync aside): each is a few
   * hundred bytes, a system call of ~0.05 ms, where a thread-pool round trip costs ~0.3 ms idle and
   * several ms while the build's other steps keep the main thread busy; every step prepares and
   * commits snapshots on its critical path (a COPY spent ~20 of its ~40 ms there).
   */
  async get(name: string): Promise<SnapshotInfo | undefined> {
    return this.getSync(name);
  }

  getSync(name: string): SnapshotInfo | undefined {
    try {
      const r = JSON.parse(readFileSync(this.pathOf(name), 'utf8')) as SnapshotInfo;
      return r.name === name ? r : undefined;
    } catch {
      return undefined;
    }
  }

  async mustGet(name: string, kind?: SnapshotKind): Promise<SnapshotInfo> {
    const r = await this.get(name);
    if (!r) throw new StoreError('SNAPSHOT_NOT_FOUND', `snapshot ${JSON.stringify(name)} not found`);
    if (kind && r.kind !== kind) {
      throw new StoreError('SNAPSHOT_STATE', `snapshot ${JSON.stringify(name)} is ${r.kind}, not ${kind}`);
    }
    return r;
  }

  /**
   * Creates a record; SNAPSHOT_EXISTS if the name is taken (atomically, across processes). Only a
   * committed record is fsynced: an active or view snapshot is scratch that a crash makes garbage
   * anyway, and a torn record reads as absent (fsck removes it), so its fsync bought nothing but
   * a journal commit on every step.
   */
  async create(info: SnapshotInfo): Promise<void> {
    const path = this.pathOf(info.name);
    if (info.kind !== 'committed') writeFileSync(this.markerOf(info.name), String(process.pid));
    const tmp = tempNameFor(path);
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeFileSync(fd, JSON.stringify(info));
      // In the thread pool: a flush can wait for the disk.
      if (info.kind === 'committed') await fsyncAsync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new StoreError('SNAPSHOT_EXISTS', `snapshot ${JSON.stringify(info.name)} already exists`);
      }
      throw e;
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  async delete(name: string): Promise<void> {
    this.#chains.delete(name);
    rmSync(this.pathOf(name), { force: true });
    rmSync(this.markerOf(name), { force: true });
  }

  async list(): Promise<SnapshotInfo[]> {
    const names = await fsp.readdir(this.recordsDir).catch((e) => (isEnoent(e) ? [] : Promise.reject(e)));
    const out: SnapshotInfo[] = [];
    for (const n of (names as string[]).sort()) {
      if (!n.endsWith('.json') || isTempName(n)) continue;
      const r = await readJson<SnapshotInfo>(join(this.recordsDir, n)).catch(() => undefined);
      if (r) out.push(r);
    }
    return out;
  }

  /** A fresh short id: `snapshots/<n>` created with mkdir (EEXIST = taken by another process). */
  async allocId(): Promise<string> {
    if (this.#nextId === 0) {
      const ids = readdirSync(this.dataDir)
        .map(Number)
        .filter((n) => Number.isInteger(n));
      this.#nextId = Math.max(0, ...ids) + 1;
    }
    for (;;) {
      const id = String(this.#nextId++);
      try {
        mkdirSync(join(this.dataDir, id));
        return id;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  }

  /** The chain below `name` (itself first) when it is remembered and still right. */
  #knownChain(name: string): SnapshotInfo[] | undefined {
    const c = this.#chains.get(name);
    if (!c) return undefined;
    const id = this.#fileId(name);
    if (id?.ino === c.ino && id.ctime === c.ctime) return c.chain;
    this.#chains.delete(name);
    return undefined;
  }

  /** Which file holds `name`'s record now: a record made again is another (inode, ctime). */
  #fileId(name: string): { ino: bigint; ctime: bigint } | undefined {
    const st = statSync(this.pathOf(name), { bigint: true, throwIfNoEntry: false });
    return st && { ino: st.ino, ctime: st.ctimeNs };
  }

  /** The parent chain of `parent` (nearest first): each record read, or below a top known unchanged. */
  async chain(parent: string | undefined): Promise<SnapshotInfo[]> {
    if (parent === undefined) return [];
    const known = this.#knownChain(parent);
    if (known) return [...known];
    // Stat before the read: a record replaced in between is then walked again next time, not kept.
    const id = this.#fileId(parent);
    const out: SnapshotInfo[] = [];
    let cur: string | undefined = parent;
    while (cur !== undefined) {
      const below = out.length > 0 ? this.#knownChain(cur) : undefined;
      if (below) {
        out.push(...below);
        break;
      }
      const r = await this.mustGet(cur);
      out.push(r);
      if (out.length > 1000) throw new StoreError('STORE_CORRUPT', `snapshot chain of ${parent} loops`);
      cur = r.parent;
    }
    if (id && out.every((r) => r.kind === 'committed')) this.#chains.set(parent, { ...id, chain: out });
    return [...out];
  }
}
