import { type Dirent, type FSWatcher, watch as fsWatch } from 'node:fs';
import { join } from 'node:path';
import { TsbuildError } from '../errors.js';
import { decodeName, fsPath, nfs, readdirDirents } from '../fs-names.js';

export interface TreeWatcherOptions {
  /** true = do not watch this path (for a directory: do not descend). */
  ignored(path: string, isDir: boolean): boolean;
  /**
   * An absolute path that changed (created, written, removed, renamed, attributes); `existed`: it was
   * in the tree before this event (from the walk and the events so far, not from a racy lstat).
   */
  onChange(path: string, existed: boolean): void;
  onError(error: unknown): void;
  /**
   * A re-watch (new ignore patterns): the paths the previous watch knew, and the time (ms) from which
   * that watch may have missed something (taken before the ignore file was read). The initial walk
   * then reports what changed since (ctime at or after it) and what of `previous` is gone, so a
   * change racing the swap of watches is never lost (see `walk` and `reconcile`).
   */
  rewatch?: { previous: ReadonlySet<string>; since: number };
}

/**
 * File timestamps come from the kernel's coarse clock (one jiffy, up to 10 ms behind the real time
 * `Date.now()` reads): a write just after `since` can carry an earlier ctime. Reporting a path that
 * changed a little before is harmless (it is in the same batch as the ignore file); missing one is not.
 */
const CLOCK_SLACK_MS = 50;

interface DirWatch {
  watcher: FSWatcher;
  ino: number;
  /** Only these names are reported (a watch on the parent of a single file, e.g. a Dockerfile elsewhere). */
  only?: Set<string>;
}

/**
 * A recursive watch made of one inotify watch per directory (`fs.watch` on each directory), not one
 * per file as chokidar does: on a 20,000-file context that is ~100 watches instead of 20,000, ready in
 * milliseconds and a few MiB. Directories that appear are walked and watched (their files reported,
 * so a `mkdir -p a/b && echo > a/b/c` racing the watch is still seen); directories that go away or are
 * replaced (another inode) have their watches closed or renewed. Symlinks are not followed.
 */
export class TreeWatcher {
  private readonly dirs = new Map<string, DirWatch>();
  private closed = false;
  private limitReported = false;
  /** Paths seen by the initial walk. */
  count = 0;
  /** Every path in the tree now, as far as the walk and the events tell. */
  private readonly known = new Set<string>();

  constructor(private readonly o: TreeWatcherOptions) {}

  /** Watches `dir` and everything below it that is not ignored. */
  addTree(dir: string): void {
    this.walk(dir, false);
  }

  /** Every path in the tree now, as far as the walk and the events tell (read-only view). */
  get paths(): ReadonlySet<string> {
    return this.known;
  }

  /**
   * After a re-watch's `addTree`/`addFiles`: reports the paths the previous watch knew that are gone
   * now (deleted before this watch saw their directory). Every watch of this tree is in place before
   * its directory is listed, so a deletion after the listing is an event, and one before is found here.
   */
  reconcile(): void {
    const rw = this.o.rewatch;
    if (!rw || this.closed) return;
    for (const p of rw.previous) {
      if (this.known.has(p) || (this.o.ignored(p, false) && this.o.ignored(p, true))) continue;
      try {
        nfs.lstat(p);
      } catch {
        this.o.onChange(p, true);
      }
    }
  }

  /** In a re-watch's initial walk: reports `p` when it changed since the previous watch may have lapsed. */
  private changedSince(p: string, isDir: boolean): void {
    const rw = this.o.rewatch;
    if (!rw) return;
    const existed = rw.previous.has(p);
    // A directory's own ctime moves when an entry is added or removed: its entries say that better.
    if (isDir && existed) return;
    try {
      const st = nfs.lstat(p);
      if (Math.max(st.ctimeMs, st.mtimeMs) >= rw.since - CLOCK_SLACK_MS) this.o.onChange(p, existed);
    } catch {
      // gone since the listing: its parent's watch (in place before the listing) reports it
    }
  }

  /**
   * Watches `names` in `dir` even when the tree walk skipped `dir` (a Dockerfile outside the context
   * or in an excluded directory); nothing to do when `dir` is watched whole.
   */
  addFiles(dir: string, names: string[]): void {
    for (const n of names) {
      try {
        nfs.lstat(join(dir, n));
        if (!this.known.has(join(dir, n))) this.changedSince(join(dir, n), false);
        this.known.add(join(dir, n));
      } catch {
        // not there yet: its creation is an event like any other
      }
    }
    const existing = this.dirs.get(dir);
    if (existing) {
      if (existing.only) for (const n of names) existing.only.add(n);
      return;
    }
    this.watchDir(dir, new Set(names));
  }

  close(): void {
    this.closed = true;
    for (const d of this.dirs.values()) d.watcher.close();
    this.dirs.clear();
  }

  /** Number of directories watched. */
  get size(): number {
    return this.dirs.size;
  }

  private walk(dir: string, report: boolean): void {
    if (this.closed || !this.watchDir(dir)) return;
    let entries: [name: string, e: Dirent | Dirent<Buffer>][];
    try {
      entries = readdirDirents(dir);
    } catch {
      return; // gone already: the parent's event reports it
    }
    for (const [name, e] of entries) {
      const p = join(dir, name);
      const isDir = e.isDirectory();
      if (this.o.ignored(p, isDir)) continue;
      this.count++;
      const existed = this.known.has(p);
      this.known.add(p);
      if (report) this.o.onChange(p, existed);
      else this.changedSince(p, isDir);
      if (isDir) this.walk(p, report);
    }
  }

  private watchDir(dir: string, only?: Set<string>): boolean {
    let ino: number;
    try {
      ino = nfs.lstat(dir).ino;
    } catch {
      return false;
    }
    const existing = this.dirs.get(dir);
    if (existing && existing.ino === ino && !existing.only) return false;
    if (existing) this.unwatchTree(dir);
    let watcher: FSWatcher;
    try {
      // Names as bytes: one that is not UTF-8 is then the escaped string the walk uses (fs-names.ts).
      watcher = fsWatch(fsPath(dir), { persistent: true, encoding: 'buffer' }, (_event, name) =>
        this.onEvent(dir, name),
      );
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' && !this.limitReported) {
        // Once, not once per directory: the rest of the tree is unwatched for the same reason.
        this.limitReported = true;
        this.o.onError(
          new TsbuildError('WATCH_LIMIT', `cannot watch ${dir}: the inotify watch limit is reached`, {
            hint: 'raise it (sysctl fs.inotify.max_user_watches=524288) or exclude more in .dockerignore',
            cause: e,
          }),
        );
      } else if (code !== 'ENOENT' && code !== 'ENOSPC') this.o.onError(e);
      return false;
    }
    // A watched directory that is removed ends its inotify watch; the parent's event handles the rest.
    watcher.on('error', () => this.unwatchTree(dir));
    this.dirs.set(dir, { watcher, ino, ...(only ? { only } : {}) });
    return true;
  }

  private unwatchTree(dir: string): void {
    for (const [p, d] of this.dirs) {
      if (p === dir || p.startsWith(`${dir}/`)) {
        d.watcher.close();
        this.dirs.delete(p);
      }
    }
  }

  private forgetTree(p: string): void {
    if (!this.known.delete(p) || !this.dirs.has(p)) return;
    for (const k of this.known) if (k.startsWith(`${p}/`)) this.known.delete(k);
  }

  private onEvent(dir: string, name: string | Buffer | null): void {
    if (this.closed) return;
    const d = this.dirs.get(dir);
    if (!d) return;
    if (name === null) {
      // The kernel dropped events (queue overflow): report the directory itself.
      this.o.onChange(dir, false);
      return;
    }
    const n = typeof name === 'string' ? name : decodeName(name);
    if (d.only && !d.only.has(n)) return;
    const p = join(dir, n);
    const existed = this.known.has(p);
    let isDir = false;
    try {
      isDir = nfs.lstat(p).isDirectory();
      this.known.add(p);
    } catch {
      // removed (or renamed away): a directory's watches and known paths go with it
      this.forgetTree(p);
      if (this.dirs.has(p)) this.unwatchTree(p);
    }
    if (this.o.ignored(p, isDir)) return;
    this.o.onChange(p, existed);
    if (isDir && !d.only) this.walk(p, true);
  }
}
