import { chmodSync, lstatSync, utimesSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type ContextSnapshot, checksumSelection, selectSources } from '../../context/index.js';
import { copyInto } from './copy-tree.js';
import type { SolverEnv } from './env.js';

/** The context's share of a RUN's cache key: what a bind mount of `source` shows. */
export function contextMountChecksum(snap: ContextSnapshot, source: string | undefined): string {
  return checksumSelection(selectSources(snap, [source ?? '/']));
}

/**
 * The build context as the source of `RUN --mount=type=bind`. BuildKit mounts the context it was
 * sent: only what `.dockerignore` lets through, every entry owned by 0:0 (the docker CLI resets
 * the ids as it sends, cli/command/image/build_buildkit.go resetUIDAndGID), as of the scan the
 * cache key was computed from. The live context dir is bound only when it already is that: no
 * ignore pattern and every entry under the source root's. Else the selection is copied into a
 * temp dir of the store, as `COPY <source> /` would copy it. Returns the dir and the source in it.
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
  const st = lstatSync(host);
  // BuildKit's context root is a dir it made: 0755, whatever the mode of the context dir.
  const rootMode = sel.path === '' ? 0o755 : st.mode & 0o7777;
  const rootOwned = st.uid === 0 && st.gid === 0 && sel.entries.every((e) => e.uid === 0 && e.gid === 0);
  if (snap.excludes.length === 0 && rootOwned && (st.mode & 0o7777) === rootMode)
    return { dir: snap.dir, source };
  const dir = await env.store.tempDir('ctx-mount-');
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const opts = { preserveOwner: false, name: sel.name };
  if (sel.entry && sel.entry.type !== 'dir') {
    await copyInto(host, [], dir, `/${sel.name}`, false, opts);
    return { dir, source: `/${sel.name}` };
  }
  const base = sel.path === '' ? '' : `${sel.path}/`;
  const children = sel.entries.filter((e) => e.path !== sel.path).map((e) => e.path.slice(base.length));
  await copyInto(host, children, dir, '/', false, opts);
  // The mount's root shows the source dir itself: its mode and times, not the temp dir's.
  chmodSync(dir, rootMode);
  utimesSync(dir, st.atime, st.mtime);
  return { dir, source: '/' };
}
