import { hasWildcard } from '../../context/index.js';
import { readdirNames } from '../../fs-names.js';
import type { Store } from '../../store/index.js';
import type { RootFs } from './chown.js';
import { ensureDir, type Owner } from './copy-tree.js';
import { MergedRoot, NeedsMount } from './merged-root.js';

/**
 * Where a file op writes. Mounted: `root` is the overlay mount and paths resolve through it.
 * Direct (`merged` set): `root` is the snapshot's upper dir, written without a mount (a mount and
 * its unmount are two mount(8) runs plus a syncfs of the whole upper filesystem, and every file
 * op through overlayfs costs about twice the plain one); destinations are resolved in the merged
 * view first and their existing parents copied up, so the upper ends as a mounted write leaves it.
 */
export interface DestFs {
  root: string;
  etc: RootFs;
  merged?: MergedRoot;
  /** Inodes this op hard-linked from stage sources (see CopyOptions.linkFrom). */
  linked?: Set<string>;
}

export function mountedDest(root: string): DestFs {
  return { root, etc: root };
}

/** The direct destination of an active snapshot: its upper over its lowers (none for copy). */
export async function directDest(store: Store, active: string): Promise<DestFs> {
  const snaps = store.snapshots;
  const lowers = snaps.kind === 'overlay' ? await snaps.lowerDirs(active) : [];
  const m = new MergedRoot([snaps.diffDir(active), ...lowers], true);
  return { root: m.upper, etc: (p) => m.hostOf(p), merged: m, linked: new Set() };
}

/** WORKDIR's MkdirAll: only what is missing is made; existing parents are copied up first. */
export function mkdirDirect(m: MergedRoot, path: string, owner?: Owner): void {
  const parts = m.resolve(path);
  for (let k = 1; k <= parts.length; k++) {
    const e = m.lookup(parts.slice(0, k));
    if (e?.st.isDirectory()) continue;
    if (e) throw new NeedsMount(path);
    m.copyUpFor(parts.slice(0, k));
    ensureDir(m.upper, `/${parts.join('/')}`, owner ? { owner } : {});
    return;
  }
}

export interface SourceShape {
  isDir: boolean;
  base: string;
  /** Names directly below a directory source. */
  top: () => string[];
}

/**
 * The destination path to hand to copyInto on `d.root`, or undefined when there is nothing to write
 * (an empty directory source onto an existing directory). Direct: resolved in the merged view, with
 * its existing parents (and itself, when entries go inside it) copied up. A write the upper alone
 * cannot express — a directory merging with one below — is a NeedsMount.
 */
export function placeDest(d: DestFs, dest: string, forceDir: boolean, src: SourceShape): string | undefined {
  const m = d.merged;
  if (!m) return dest;
  const parts = m.resolve(dest);
  const out = `/${parts.join('/')}${dest.endsWith('/') && parts.length > 0 ? '/' : ''}`;
  const e = m.lookup(parts);
  if (e && !e.st.isDirectory()) {
    // a file over a file: the upper copy hides the lower one; into a non-dir: the mounted error
    if (src.isDir || dest.endsWith('/') || forceDir) throw new NeedsMount(dest);
    m.copyUpFor(parts);
    return out;
  }
  if (!e) {
    m.copyUpFor(parts);
    return out;
  }
  if (src.isDir) {
    const top = src.top();
    // An empty directory into one that is there: nothing to write, and BuildKit's copy leaves the
    // destination alone (it is not in the step's layer); undefined says so.
    if (top.length === 0) return undefined;
    for (const name of top) if (m.inLowers([...parts, name].join('/'))) throw new NeedsMount(dest);
    // Copied up first: the upper then holds the same dir the view shows, its children go in it.
    m.copyUpFor([...parts, '']);
    return out;
  }
  // A file into an existing directory: it replaces a non-dir at dir/name (the upper copy hides it).
  // A directory there is BuildKit's "cannot replace to directory … with file": the mounted copy
  // sees it and says so (written directly, the file would have hidden the lower directory).
  if (m.lookup([...parts, src.base])?.st.isDirectory()) throw new NeedsMount(dest);
  m.copyUpFor([...parts, src.base]);
  return out;
}

/**
 * A `COPY --from` source read straight from the source snapshot's layers: a file is the topmost
 * copy; a directory only when no lower layer has its path (else its contents merge). Returns
 * undefined when a mounted view is needed (wildcards, copy snapshotter, merges, opacity unknown).
 */
export async function directSource(
  store: Store,
  snapshot: string | undefined,
  source: string,
  cache: Map<string, MergedRoot>,
): Promise<string | undefined> {
  if (!snapshot || hasWildcard(source) || store.snapshots.kind !== 'overlay') return undefined;
  let m = cache.get(snapshot);
  if (!m) {
    const layers = [store.snapshots.diffDir(snapshot), ...(await store.snapshots.lowerDirs(snapshot))];
    m = new MergedRoot(layers, false);
    cache.set(snapshot, m);
  }
  try {
    const parts = m.resolve(source);
    const e = m.lookup(parts);
    if (!e || parts.length === 0) return undefined;
    // A directory is one layer's subtree only if no layer below has its path at all.
    if (e.st.isDirectory() && m.inLowers(parts.join('/'), e.layer + 1)) return undefined;
    return e.host;
  } catch (e) {
    if (e instanceof NeedsMount) return undefined;
    throw e;
  }
}

export function topNames(dir: string): string[] {
  return readdirNames(dir);
}
