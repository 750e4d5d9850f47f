import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ContextEntry,
  type ContextSnapshot,
  checksumSelection,
  selectSources,
} from '../../context/index.js';
import { nfs, readlinkName } from '../../fs-names.js';
import { makeNodes, toByteString } from '../../store/index.js';
import { tryLink } from './copy-io.js';
import type { SolverEnv } from './env.js';

/** The context's share of a RUN's cache key: what a bind mount of `source` shows. */
export function contextMountChecksum(snap: ContextSnapshot, source: string | undefined): string {
  return checksumSelection(selectSources(snap, [source ?? '/']), snap.keepOwners);
}

/**
 * The build context as the source of `RUN --mount=type=bind`. BuildKit mounts the context it was
 * sent: only what `.dockerignore` lets through, every entry owned by 0:0 (the docker CLI resets
 * the ids as it sends, cli/command/image/build_buildkit.go resetUIDAndGID), as of the scan the
 * cache key was computed from. The live context dir is bound only when it already is that: no
 * ignore pattern and every entry under the source root's. Else the selection is mirrored into a
 * temp dir of the store (see mirror). Returns the dir and the source in it.
 */
export async function contextMount(
  env: SolverEnv,
  source: string | undefined,
  cleanups: (() => Promise<void>)[],
): Promise<{ dir: string; source: string | undefined }> {
  const snap = await env.context();
  const [sel] = selectSources(snap, [source ?? '/']);
  if (!sel) throw new Error('unreachable: a plain source selects itself');
  const host = join(snap.dir, sel.path);
  const st = nfs.lstat(host);
  // BuildKit's context root is a dir it made: 0755, whatever the mode of the context dir.
  const rootMode = sel.path === '' ? 0o755 : st.mode & 0o7777;
  // The owners the mount shows: all 0:0, or a tarball context's own (snap.keepOwners), as they are.
  const keep = snap.keepOwners === true;
  const ownersAsShown =
    keep || (st.uid === 0 && st.gid === 0 && sel.entries.every((e) => e.uid === 0 && e.gid === 0));
  // A socket is an empty file in BuildKit's context (ContextEntry.socket): mirrored, never bound.
  const asIs = ownersAsShown && (st.mode & 0o7777) === rootMode && !sel.entries.some((e) => e.socket);
  if (snap.excludes.length === 0 && asIs) return { dir: snap.dir, source };
  const dir = await env.store.tempDir('ctx-mount-');
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const fifos: Fifo[] = [];
  if (sel.entry && sel.entry.type !== 'dir') {
    mirror(host, join(dir, sel.name), sel.entry, fifos, keep);
    await makeFifos(fifos);
    return { dir, source: `/${sel.name}` };
  }
  const base = sel.path === '' ? '' : `${sel.path}/`;
  const dirs: [string, string][] = [[host, dir]];
  for (const e of sel.entries) {
    if (e.path === sel.path) continue;
    const to = join(dir, e.path.slice(base.length));
    mirror(join(snap.dir, e.path), to, e, fifos, keep);
    if (e.type === 'dir') dirs.push([join(snap.dir, e.path), to]);
  }
  await makeFifos(fifos);
  // The mount's root shows the source dir itself (BuildKit's context root: 0755); dir times last,
  // deepest first, as making their entries dated them.
  nfs.chmod(dir, rootMode);
  for (const [from, to] of dirs.reverse()) {
    const t = nfs.lstat(from);
    nfs.utimes(to, t.atime, t.mtime);
  }
  return { dir, source: '/' };
}

/**
 * One entry of the mounted selection, shown as BuildKit shows it (owned by 0:0, or its own owner
 * with `keep`; mode and times kept). A file with the owner it is to show is hard-linked rather than
 * copied: the mount is read-only, or under an overlay whose copy-up leaves the linked inode alone
 * (runner/mounts.ts), so the context cannot be written through it; across filesystems, or for a
 * file that must change owner, it is copied. A FIFO goes to `fifos`, for makeFifos.
 */
function mirror(from: string, to: string, e: ContextEntry, fifos: Fifo[], keep: boolean): void {
  const [uid, gid] = keep ? [e.uid, e.gid] : [0, 0];
  if (e.type === 'dir') {
    nfs.mkdir(to, 0o700);
    if (keep) nfs.lchown(to, uid, gid);
    nfs.chmod(to, e.mode & 0o7777);
  } else if (e.type === 'symlink') {
    nfs.symlink(e.target ?? readlinkName(from), to);
    nfs.lchown(to, uid, gid);
  } else if (e.type === 'file') {
    if (!e.socket && e.uid === uid && e.gid === gid && tryLink(from, to)) return;
    if (e.socket) nfs.writeEmpty(to);
    else nfs.copyFile(from, to);
    nfs.lchown(to, uid, gid);
    nfs.chmod(to, e.mode & 0o7777);
    const t = nfs.lstat(from);
    nfs.utimes(to, t.atime, t.mtime);
  } else if ((e.mode & 0o170000) === 0o010000) fifos.push({ to, mode: e.mode & 0o7777, uid, gid });
}

interface Fifo {
  to: string;
  mode: number;
  uid: number;
  gid: number;
}

/**
 * fsutil's DiskWriter makes a context FIFO again in the context BuildKit mounts. Node has no
 * mkfifo: the store's makeNodes, one child for all, names them as bytes (any name, UTF-8 or not).
 */
async function makeFifos(fifos: Fifo[]): Promise<void> {
  await makeNodes(fifos.map((f) => ({ path: toByteString(f.to), type: 'p', major: 0, minor: 0 })));
  for (const f of fifos) {
    nfs.lchown(f.to, f.uid, f.gid);
    nfs.chmod(f.to, f.mode);
  }
}
