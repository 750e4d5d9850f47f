import { execFile } from 'node:child_process';
import { chmodSync, promises as fsp, mkdirSync, renameSync, rmSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StoreError } from '../errors.js';
import type {
  Mount,
  PrepareOptions,
  SnapshotInfo,
  Snapshotter,
  SnapshotterKind,
  SnapshotUsage,
} from '../types.js';
import { computeCopyDiff } from './copy-diff.js';
import { SnapshotRecords } from './records.js';

const run = promisify(execFile);

/**
 * containerd-style snapshotter over `snapshots/<id>/{fs,work}`.
 * overlay: an active snapshot's `fs` is the overlay upper, lowers are the parents' `fs` dirs, so the
 * committed `fs` IS the diff. copy (fallback where overlay cannot mount): `fs` is a full copy of the
 * parent, and commit computes `diff` (overlay-style: whiteouts as char 0/0) by walking both trees.
 */
export class LocalSnapshotter implements Snapshotter {
  readonly kind: SnapshotterKind;
  readonly records: SnapshotRecords;
  readonly #overlayOptions: string[];
  readonly #newTree: () => Promise<string>;

  /** `newTree`: a new empty dir in the store's `tmp/` (the store's `tempDir`, see markTopDir). */
  constructor(
    root: string,
    kind: SnapshotterKind,
    overlayOptions: string[] = [],
    newTree: () => Promise<string> = () => fsp.mkdtemp(join(root, 'tmp', `${process.pid}-snap-`)),
  ) {
    this.kind = kind;
    this.records = new SnapshotRecords(join(root, 'meta', 'snapshots'), join(root, 'snapshots'));
    this.#overlayOptions = overlayOptions;
    this.#newTree = newTree;
  }

  get dataDir(): string {
    return this.records.dataDir;
  }

  async prepare(key: string, parent?: string, opts: PrepareOptions = {}): Promise<Mount[]> {
    if (opts.contents !== undefined && this.kind !== 'overlay') {
      // A copy snapshot's dir holds its parent's whole tree: a diff alone cannot become one.
      throw new StoreError('SNAPSHOT_INVALID', 'only an overlay snapshot can be prepared from a diff dir');
    }
    return this.#create(key, parent, 'active', opts.labels, opts.contents);
  }

  view(key: string, parent?: string, opts: { labels?: Record<string, string> } = {}): Promise<Mount[]> {
    return this.#create(key, parent, 'view', opts.labels);
  }

  async #create(
    key: string,
    parent: string | undefined,
    kind: 'active' | 'view',
    labels?: Record<string, string>,
    contents?: string,
  ): Promise<Mount[]> {
    if (!key) throw new StoreError('SNAPSHOT_INVALID', 'snapshot key must not be empty');
    // Independent round trips at once (every step prepares a snapshot).
    const [existing] = await Promise.all([
      this.records.get(key),
      parent !== undefined ? this.records.mustGet(parent, 'committed') : undefined,
    ]);
    if (existing !== undefined) {
      throw new StoreError('SNAPSHOT_EXISTS', `snapshot ${JSON.stringify(key)} already exists`);
    }
    const id = await this.records.allocId();
    const dir = join(this.dataDir, id);
    let info: SnapshotInfo;
    const made: string[] = [];
    const tree = async () => {
      const t = await this.#newTree();
      made.push(t);
      return t;
    };
    try {
      // Made in tmp/ under a random name, then moved: where ext4 puts a tree is decided when its
      // directory is made, and tmp/ spreads new directories by name (markTopDir). Ids restart
      // at 1 in a new store, so under snapshots/ a tree would go where the last one was deleted.
      // So is `work` of an upper: overlayfs makes a copied-up directory there and renames it into
      // the upper, so what a RUN writes below it is allocated near `work`. (mkdtemp's mode is 0700.)
      const fs = contents ?? (await tree());
      const work = this.kind === 'overlay' && contents === undefined ? await tree() : undefined;
      // Moved, not copied (same filesystem); the upper's own mode is the root dir's in a mount.
      // Synchronous, as the records are (SnapshotRecords.get): metadata calls on every step's path.
      renameSync(fs, join(dir, 'fs'));
      chmodSync(join(dir, 'fs'), 0o755);
      if (work) renameSync(work, join(dir, 'work'));
      else mkdirSync(join(dir, 'work'), { mode: 0o700 });
      if (this.kind === 'copy' && parent !== undefined && kind === 'active') {
        const p = await this.records.mustGet(parent);
        await run('cp', ['-a', '--reflink=auto', `${join(this.dataDir, p.id, 'fs')}/.`, join(dir, 'fs')]);
      }
      info = { name: key, kind, id, createdAt: Date.now(), pid: process.pid };
      if (parent !== undefined) info.parent = parent;
      if (labels) info.labels = labels;
      await this.records.create(info);
    } catch (e) {
      // `made` trees are gone once moved; one not moved in is ours to remove (a caller's `contents` stays its own).
      await Promise.all([dir, ...made].map((d) => fsp.rm(d, { recursive: true, force: true })));
      throw e;
    }
    return this.#mountsOf(info);
  }

  async mounts(key: string): Promise<Mount[]> {
    return this.#mountsOf(await this.records.mustGet(key));
  }

  async #mountsOf(info: SnapshotInfo): Promise<Mount[]> {
    const key = info.name;
    if (info.kind === 'committed') {
      throw new StoreError(
        'SNAPSHOT_STATE',
        `snapshot ${JSON.stringify(key)} is committed: view it to mount it`,
      );
    }
    const chain = await this.records.chain(info.parent);
    const own = join(this.dataDir, info.id, 'fs');
    const ro = info.kind === 'view';
    if (this.kind === 'copy') {
      const src = ro && chain.length > 0 ? join(this.dataDir, chain[0]!.id, 'fs') : own;
      return [{ type: 'bind', source: src, options: ['rbind', ro ? 'ro' : 'rw'] }];
    }
    if (chain.length === 0) return [{ type: 'bind', source: own, options: ['rbind', ro ? 'ro' : 'rw'] }];
    // Relative lowerdirs (mount runs with cwd = snapshots/): a 100+ layer chain fits one page. A
    // view of one layer gets its own empty fs below it: overlay needs two lowers, and a bind mount
    // would show that layer's whiteouts (char 0/0, of nothing: an image's first layer may have them)
    // as device nodes that a COPY --from would copy.
    const lowers = [
      ...chain.map((c) => `${c.id}/fs`),
      ...(ro && chain.length === 1 ? [`${info.id}/fs`] : []),
    ];
    const lower = `lowerdir=${lowers.join(':')}`;
    const options = ro
      ? [lower, ...this.#overlayOptions]
      : [
          lower,
          `upperdir=${info.id}/fs`,
          `workdir=${info.id}/work`,
          ...this.#overlayOptions,
          ...(VOLATILE_OK ? ['volatile'] : []),
        ];
    return [{ type: 'overlay', source: 'overlay', options, cwd: this.dataDir }];
  }

  async commit(
    name: string,
    key: string,
    opts: { labels?: Record<string, string> } = {},
  ): Promise<SnapshotInfo> {
    const info = await this.records.mustGet(key, 'active');
    if (this.kind === 'copy') {
      const diff = join(this.dataDir, info.id, 'diff');
      await fsp.rm(diff, { recursive: true, force: true });
      const parentFs = info.parent
        ? join(this.dataDir, (await this.records.mustGet(info.parent)).id, 'fs')
        : undefined;
      await computeCopyDiff(parentFs, join(this.dataDir, info.id, 'fs'), diff);
    }
    const { pid: _pid, ...rest } = info;
    const committed: SnapshotInfo = { ...rest, name, kind: 'committed', createdAt: Date.now() };
    if (opts.labels) committed.labels = { ...info.labels, ...opts.labels };
    // Committed record first, then drop the active one: a crash in between leaves two records on one
    // id, which fsck resolves in favour of the committed one.
    await this.records.create(committed);
    // The work dir is overlay scratch; empty it (it may hold a root-owned work/work dir).
    await this.records.delete(key);
    rmSync(join(this.dataDir, info.id, 'work'), { recursive: true, force: true });
    return committed;
  }

  async remove(key: string): Promise<void> {
    const info = await this.records.mustGet(key);
    // Views never share a dir; active and committed records can (a commit cut short by kill -9).
    const others = info.kind === 'view' ? [] : (await this.records.list()).filter((r) => r.name !== key);
    if (info.kind === 'committed') {
      const child = others.find((r) => r.parent === key);
      if (child) {
        throw new StoreError(
          'SNAPSHOT_IN_USE',
          `snapshot ${JSON.stringify(key)} has a child ${JSON.stringify(child.name)}`,
        );
      }
    }
    await this.records.delete(key);
    if (others.some((r) => r.id === info.id)) return;
    await fsp.rm(join(this.dataDir, info.id), { recursive: true, force: true });
  }

  stat(key: string): Promise<SnapshotInfo> {
    return this.records.mustGet(key);
  }

  tryStat(key: string): Promise<SnapshotInfo | undefined> {
    return this.records.get(key);
  }

  async walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    for (const r of await this.records.list()) await fn(r);
  }

  async usage(key: string): Promise<SnapshotUsage> {
    const info = await this.records.mustGet(key);
    return dirUsage(join(this.dataDir, info.id));
  }

  /** Sync (reads the record file) so callers can compute paths without awaiting. */
  diffDir(key: string): string {
    const info = this.records.getSync(key);
    if (!info) throw new StoreError('SNAPSHOT_NOT_FOUND', `snapshot ${JSON.stringify(key)} not found`);
    return this.diffDirOf(info);
  }

  async lowerDirs(key: string): Promise<string[]> {
    const info = await this.records.mustGet(key);
    const chain = await this.records.chain(info.parent);
    return chain.map((c) => join(this.dataDir, c.id, this.kind === 'copy' ? 'diff' : 'fs'));
  }

  /** The diff dir of a snapshot record (see Snapshotter.diffDir). */
  diffDirOf(info: SnapshotInfo): string {
    const sub = this.kind === 'copy' && info.kind === 'committed' ? 'diff' : 'fs';
    return join(this.dataDir, info.id, sub);
  }
}

/**
 * Whether overlay takes `volatile` (Linux 5.10+). An active snapshot's overlay is mounted once (RUN,
 * COPY) and then committed or removed; without `volatile` its unmount (also the implicit one when a
 * container's mount namespace ends) syncs the whole upper filesystem, so every step waited for all
 * the dirty data on the disk, its own and earlier steps' (100s of ms after a big COPY or unpack).
 * Snapshot contents were never fsynced (an unpack is not either), only blobs and records are, so
 * nothing durable is lost. The work dir, which `volatile` marks, goes at commit.
 */
export const VOLATILE_OK = kernelAtLeast(release(), 5, 10);

export function kernelAtLeast(rel: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/** Bytes (allocated blocks) and inodes under a directory; hardlinks counted once. */
export async function dirUsage(dir: string): Promise<SnapshotUsage> {
  const seen = new Set<string>();
  let size = 0;
  let inodes = 0;
  const walk = async (d: string): Promise<void> => {
    const ents = await fsp.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of ents) {
      const p = join(d, e.name);
      const st = await fsp.lstat(p).catch(() => undefined);
      if (!st) continue;
      const k = `${st.dev}:${st.ino}`;
      if (!seen.has(k)) {
        seen.add(k);
        inodes++;
        size += st.blocks * 512;
      }
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return { size, inodes };
}
