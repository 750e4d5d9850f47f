import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkOverlayDepth, mount, unmount } from '../store/index.js';
import { dirView, layeredView, type RootView } from './root-view.js';
import type { SpecMount } from './spec.js';
import { overlayDirs } from './stubs.js';
import type { RootfsSource } from './types.js';

/** The kernel copies one page of mount data: longer overlay options must be mounted relative (cwd). */
const MOUNT_DATA_LIMIT = 4000;

/**
 * How the container gets its root:
 * - `dir`: the caller's already mounted dir.
 * - `runtime`: an overlay that runc mounts at `/` inside the container's own mount namespace. No host
 *   mount exists, so there is nothing to unmount and nothing a kill -9 can leave mounted; the view
 *   reads the layers directly.
 * - `host`: mounted here by the store's mount module (bind mounts of the copy snapshotter, or overlay
 *   options too long for absolute paths), unmounted after the run.
 */
export type RootfsPlan =
  | { kind: 'dir'; dir: string; view: RootView }
  | { kind: 'runtime'; dir: string; view: RootView; mount: SpecMount; upper: string; lowers: string[] }
  | { kind: 'host'; dir: string; view: RootView; source: Extract<RootfsSource, { mounts: unknown }> };

export function planRootfs(rootfs: RootfsSource, bundle: string): RootfsPlan {
  if ('dir' in rootfs) return { kind: 'dir', dir: rootfs.dir, view: dirView(rootfs.dir) };
  const dir = join(bundle, 'rootfs');
  mkdirSync(dir, { recursive: true });
  const m = rootfs.mounts[0];
  const dirs =
    m && rootfs.mounts.length === 1 && m.type === 'overlay' ? overlayDirs(m.options, m.cwd) : undefined;
  if (m && dirs) {
    checkOverlayDepth(m.options);
    const work = overlayDirs(m.options, m.cwd, 'workdir');
    const options = m.options.map((o) => {
      if (o.startsWith('lowerdir=')) return `lowerdir=${dirs.lowers.join(':')}`;
      if (o.startsWith('upperdir=')) return `upperdir=${dirs.upper}`;
      if (o.startsWith('workdir=') && work) return `workdir=${work.upper}`;
      return o;
    });
    // Absolute paths must fit the page and must not contain overlay's separators (`,` and `:`).
    const paths = [dirs.upper, ...dirs.lowers, work?.upper ?? ''];
    if (options.join(',').length < MOUNT_DATA_LIMIT && !paths.some((p) => /[,:]/.test(p))) {
      return {
        kind: 'runtime',
        dir,
        view: layeredView([dirs.upper, ...dirs.lowers]),
        mount: { destination: '/', type: 'overlay', source: 'overlay', options },
        upper: dirs.upper,
        lowers: dirs.lowers,
      };
    }
  }
  return { kind: 'host', dir, view: dirView(dir), source: rootfs };
}

export async function mountHost(plan: RootfsPlan): Promise<void> {
  if (plan.kind === 'host') await mount(plan.source.mounts, plan.dir);
}

/** Unmounts a host-mounted root; never throws (teardown must go on; the store's unmount goes lazy). */
export async function unmountHost(plan: RootfsPlan): Promise<void> {
  if (plan.kind === 'host') await unmount(plan.dir).catch(() => undefined);
}

/** For mounts.ts: an overlay on the host (rw bind mounts get a throw-away upper). */
export { mount as mountOnHost, unmount as unmountOnHost };
