import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lstatSync,
  type Stats,
  writeSync,
} from 'node:fs';
import { boundTime } from '../../fs-times.js';
import { StoreError } from '../errors.js';
import { bfs, bytes } from './byte-fs.js';
import { cleanEntryPath, RootResolver, unsafe } from './root-resolver.js';
import { makeNodes, type NodeSpec, writeXattrs } from './special-files.js';
import type { ReadEntry, TarSink } from './tar-reader.js';
import type { ExtractOptions } from './types.js';

const WH = '.wh.';
const OPQ = '.wh..wh..opq';

/**
 * What the tar reader's entries do to the root (see `extractLayer`): each entry in order, confined
 * to the root; nodes, links to them, xattrs and directory times deferred to `finish`.
 */
export class ExtractSink implements TarSink {
  readonly #r: RootResolver;
  readonly #opts: ExtractOptions;
  readonly #sameOwner: boolean;
  readonly #devices: 'create' | 'skip' | 'error';
  /** Paths this layer wrote: whiteouts and opaque markers never remove them. */
  readonly #written = new Set<string>();
  #fd = -1;
  #cur?: ReadEntry;
  #curChown = false;
  readonly #dirTimes: [string, number][] = [];
  readonly #nodes: (NodeSpec & { e: ReadEntry })[] = [];
  /**
   * Nodes of this layer not made yet, by path: true when finish makes them (FIFOs and devices
   * allowed here, overlay whiteouts), false when skipped. Hard links to them wait or go too.
   */
  readonly #deferred = new Map<string, boolean>();
  readonly #nodeLinks: { target: string; path: string }[] = [];
  readonly #xattrs: { path: string; name: string; value: Buffer }[] = [];
  /** The `security.capability` ones, apart: a link entry's chown takes its inode's off (few). */
  #caps: { path: string; name: string; value: Buffer }[] = [];

  /** The root as the OS names it (for child processes' cwd); #r works on byte strings. */
  readonly #realRoot: string;

  /**
   * Dirs made by this extraction (or found empty at its start), mapped to whether new entries in
   * them may get another group than ours (setgid, or not known). A name under one of them exists
   * only if this extraction made it: no lstat for the rest. Cleared whenever anything is removed.
   */
  readonly #fresh = new Map<string, boolean>();
  readonly #ids = [process.geteuid?.() ?? -1, process.getegid?.() ?? -1];

  constructor(root: string, realRoot: string, opts: ExtractOptions) {
    this.#r = new RootResolver(
      root,
      (p) => {
        this.#mine.add(p);
        this.#made(p, this.#fresh.get(parentOf(p)) ?? true);
        if (opts.mtime !== undefined) this.#dirTimes.push([p, opts.mtime]);
      },
      opts.mode === 'flat' ? (p, st) => this.#claimLower(p, st) : undefined,
    );
    if (bfs.readdir(root).length === 0) this.#made(root, (bfs.lstat(root).mode & 0o2000) !== 0);
    this.#realRoot = realRoot;
    this.#opts = opts;
    const isRoot = process.getuid?.() === 0;
    this.#sameOwner = opts.sameOwner ?? isRoot;
    this.#devices = opts.devices ?? (isRoot && opts.mode === 'overlay' ? 'create' : 'skip');
  }

  entry(e: ReadEntry): void {
    if (this.#opts.mtime !== undefined) e.mtime = this.#opts.mtime;
    const rel = cleanEntryPath(e.name);
    this.#cur = undefined;
    if (rel === '') return; // the root itself: its metadata belongs to whoever owns `dir`
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    if (base.startsWith(WH)) {
      this.#whiteout(rel, base, e);
      return;
    }
    const { parent, path } = this.#r.entry(rel);
    const mayExist = !this.#fresh.has(parent) || this.#written.has(path) || this.#fresh.has(path);
    const existing = mayExist ? lstatIfAny(path) : undefined;
    const keepDir = existing?.isDirectory() === true && e.type === 'Directory';
    if (existing && !keepDir) this.#removeExisting(path, existing);
    this.#written.add(path);
    // A new entry is already ours (root: 0:0) unless its parent hands down its group (setgid).
    this.#chown =
      this.#sameOwner &&
      (keepDir || this.#fresh.get(parent) !== false || e.uid !== this.#ids[0] || e.gid !== this.#ids[1]);
    this.#create(e, path, keepDir);
  }

  #chown = true;

  /** Dirs this layer made or took over as parents (flat mode: see #claimLower). */
  readonly #mine = new Set<string>();

  /**
   * Flat mode writes a layer over the layers below it in one tree, where overlayfs (every RUN,
   * BuildKit's exporters, dockerd's layer store) unpacks it into a dir of its own: there a parent
   * the layer implies without listing it is a new 0755 dir, which hides a lower symlink or file
   * (never followed through, never "not a directory") and gives a lower dir its mode, owner and
   * time. Parents this layer wrote itself resolve as they would in its own dir.
   */
  #claimLower(path: string, st: Stats): boolean {
    if (this.#written.has(path) || this.#mine.has(path)) return false;
    this.#mine.add(path);
    if (st.isDirectory()) {
      if (this.#sameOwner) bfs.lchown(path, this.#ids[0]!, this.#ids[1]!);
      bfs.chmod(path, 0o755);
      // A set time (SOURCE_DATE_EPOCH) is every dir's at the end; else the new dir's: now.
      if (this.#opts.mtime !== undefined) this.#dirTimes.push([path, this.#opts.mtime]);
      else bfs.lutimes(path, Date.now() / 1000);
      return true;
    }
    this.#removeExisting(path, st);
    bfs.mkdir(path, 0o755);
    this.#made(path, this.#fresh.get(parentOf(path)) ?? true);
    if (this.#opts.mtime !== undefined) this.#dirTimes.push([path, this.#opts.mtime]);
    return true;
  }

  #made(path: string, setgid: boolean): void {
    this.#fresh.set(path, setgid);
  }

  data(chunk: Buffer): void {
    if (this.#fd < 0) return;
    let off = 0;
    while (off < chunk.length) off += writeSync(this.#fd, chunk, off, chunk.length - off);
  }

  endEntry(): void {
    if (this.#fd < 0 || !this.#cur) return;
    const e = this.#cur;
    try {
      if (this.#curChown) fchownSync(this.#fd, e.uid, e.gid);
      // chmod after chown: chown clears setuid/setgid.
      fchmodSync(this.#fd, e.mode);
      futimesSync(this.#fd, boundTime(e.mtime), boundTime(e.mtime));
    } finally {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }

  abort(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  /**
   * Cached parent resolutions can pass only through directories and symlinks, so removing either
   * drops the cache; a name that did not exist was never on a cached path, so creating one (even a
   * symlink) keeps it.
   */
  #removeExisting(path: string, st: Stats): void {
    if (st.isDirectory()) bfs.rm(path);
    else bfs.unlink(path);
    if (st.isDirectory() || st.isSymbolicLink()) this.#r.invalidate();
    this.#fresh.clear();
  }

  #create(e: ReadEntry, path: string, keepDir: boolean): void {
    switch (e.type) {
      case 'Directory': {
        if (!keepDir) bfs.mkdir(path, 0o700);
        if (this.#chown) bfs.lchown(path, e.uid, e.gid);
        bfs.chmod(path, e.mode);
        if (!keepDir || this.#fresh.has(path)) this.#made(path, (e.mode & 0o2000) !== 0);
        this.#dirTimes.push([path, e.mtime]);
        this.#xattr(path, e);
        return;
      }
      case 'File': {
        this.#fd = bfs.open(
          path,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          0o600,
        );
        this.#cur = e;
        this.#curChown = this.#chown;
        this.#xattr(path, e);
        return;
      }
      case 'SymbolicLink': {
        bfs.symlink(e.linkpath, path);
        if (this.#chown) bfs.lchown(path, e.uid, e.gid);
        bfs.lutimes(path, e.mtime);
        return;
      }
      case 'Link':
        this.#hardLink(e, path);
        return;
      default:
        this.#special(e, path);
    }
  }

  #hardLink(e: ReadEntry, path: string): void {
    if (e.linkpath === '') throw new StoreError('LAYER_INVALID', `hardlink ${e.name} has no target`);
    const target = this.#r.entry(cleanLink(e.linkpath, e.name)).path;
    const st = bfs.lstatOrUndefined(target);
    // A link to a FIFO or device node: made once the node is (finish), or not at all if skipped.
    // A link to this layer's whiteout shares the whiteout's char 0/0 node, so it hides its own
    // name too: moby's and containerd's appliers make the node first and then link to it.
    const made = st ? undefined : this.#deferred.get(target);
    if (made !== undefined) {
      if (made) this.#nodeLinks.push({ target, path });
      return;
    }
    // A lower layer's file is not in this layer's own dir (overlay), so not linkable (moby).
    const lower = this.#opts.mode === 'flat' && !this.#written.has(target);
    if (!st || st.isDirectory() || lower) {
      throw new StoreError(
        'LAYER_INVALID',
        `hardlink ${e.name} → ${e.linkpath}: target missing or a directory`,
      );
    }
    bfs.link(target, path);
    // moby's createTarFile gives the link entry's owner, mode and mtime to the inode it shares
    // (dockerd's BuildKit shows them on a pulled layer), a symlink's mode and times excepted.
    // The chown is never skipped (the inode is the target's, not a fresh one); it drops the
    // inode's file capability (the kernel's doing) before the link's own xattrs are set, and
    // as xattrs are written at the end here, the dropped one is taken off the list.
    if (this.#sameOwner) {
      bfs.lchown(path, e.uid, e.gid);
      this.#dropCapability(st.ino);
    }
    if (!st.isSymbolicLink()) {
      bfs.chmod(path, e.mode);
      bfs.lutimes(path, e.mtime);
    }
    this.#xattr(path, e);
  }

  #dropCapability(ino: number): void {
    if (this.#caps.length > 0)
      this.#caps = this.#caps.filter((x) => bfs.lstatOrUndefined(x.path)?.ino !== ino);
  }

  #special(e: ReadEntry, path: string): void {
    if (this.#devices === 'error') throw unsafe(e.name, `${e.type} entries are not allowed here`);
    this.#deferred.set(path, this.#deferred.get(path) === true || this.#devices !== 'skip');
    if (this.#devices === 'skip') return;
    const type = e.type === 'FIFO' ? 'p' : e.type === 'BlockDevice' ? 'b' : 'c';
    this.#nodes.push({ path, type, major: e.devmajor, minor: e.devminor, e });
  }

  #xattr(path: string, e: ReadEntry): void {
    for (const [name, value] of e.xattrs) {
      // overlay's own attributes could redirect lookups outside this layer: never taken from a tar.
      if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) continue;
      (name === 'security.capability' ? this.#caps : this.#xattrs).push({ path, name, value });
    }
  }

  #whiteout(rel: string, base: string, e: ReadEntry): void {
    const i = rel.lastIndexOf('/');
    const parent = this.#r.dir(i < 0 ? '' : rel.slice(0, i));
    if (base === OPQ) {
      if (this.#opts.mode === 'overlay') {
        const key = this.#opts.userxattr ? 'user.overlay.opaque' : 'trusted.overlay.opaque';
        this.#xattrs.push({ path: parent, name: key, value: Buffer.from('y') });
      } else if (i >= 0) this.#clearLower(parent);
      // else: an opaque layer root. overlayfs ignores the opaque mark on a layer's root dir, so
      // every RUN (and BuildKit's local export, a mounted view) still sees the lower layers: the
      // flat view must show what the steps saw.
      return;
    }
    if (base.startsWith(`${WH}${WH}`)) return; // aufs metadata (.wh..wh.plnk…): not content
    const victim = base.slice(WH.length);
    if (victim === '' || victim === '.' || victim === '..') throw unsafe(rel, 'bad whiteout name');
    const path = `${parent}/${victim}`;
    if (this.#written.has(path)) return; // whiteouts hide lower layers only
    if (this.#opts.mode === 'flat') {
      bfs.rm(path);
      this.#r.invalidate();
      this.#fresh.clear();
    } else {
      // Owner and mtime from the whiteout entry, so re-tarring this diff gives the same bytes.
      this.#deferred.set(path, true);
      this.#nodes.push({ path, type: 'c', major: 0, minor: 0, e: { ...e, mode: 0, xattrs: [] } });
    }
  }

  /** Opaque dir, flat mode: remove what lower layers put under `dir`, keep what this layer wrote. */
  #clearLower(dir: string): void {
    for (const name of bfs.readdir(dir)) {
      const p = `${dir}/${name}`;
      if (!this.#written.has(p) && !this.#mine.has(p)) {
        bfs.rm(p);
        this.#r.invalidate();
        this.#fresh.clear();
      } else if (bfs.lstat(p).isDirectory()) this.#clearLower(p);
    }
  }

  /** Deferred work, re-checked: nothing here follows a symlink a later entry may have planted. */
  async finish(): Promise<void> {
    // A later entry may have replaced a parent with a file, a symlink or a symlink loop: then the
    // path is gone (and the check creates nothing where such a symlink points).
    const still = (path: string) => {
      try {
        return this.#r.lookup(this.#r.relOf(path)) === path;
      } catch {
        return false;
      }
    };
    const nodes = this.#nodes.filter((n) => still(n.path) && !bfs.lstatOrUndefined(n.path));
    await makeNodes(nodes);
    for (const n of nodes) {
      if (this.#sameOwner) bfs.lchown(n.path, n.e.uid, n.e.gid);
      bfs.chmod(n.path, n.e.mode);
      bfs.lutimes(n.path, n.e.mtime);
      this.#xattr(n.path, n.e);
    }
    for (const l of this.#nodeLinks) {
      if (still(l.path) && still(l.target) && bfs.lstatOrUndefined(l.target) && !bfs.lstatOrUndefined(l.path))
        bfs.link(l.target, l.path);
    }
    const xs = [...this.#xattrs, ...this.#caps].filter((x) => {
      const st = bfs.lstatOrUndefined(x.path);
      return st !== undefined && !st.isSymbolicLink() && (x.path === this.#r.root || still(x.path));
    });
    await writeXattrs(
      this.#realRoot,
      xs.map((x) => ({ rel: this.#r.relOf(x.path), name: x.name, value: x.value })),
    );
    for (let i = this.#dirTimes.length - 1; i >= 0; i--) {
      const [path, t] = this.#dirTimes[i]!;
      if (bfs.lstatOrUndefined(path)?.isDirectory() && still(path)) bfs.lutimes(path, t);
    }
  }
}

/** lstat without an exception for a missing name (most entries are new: a throw each is measurable). */
function lstatIfAny(path: string): Stats | undefined {
  return lstatSync(bytes(path), { throwIfNoEntry: false });
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

function cleanLink(linkpath: string, name: string): string {
  const rel = cleanEntryPath(linkpath);
  if (rel === '') throw unsafe(name, 'hardlink to the root');
  return rel;
}
