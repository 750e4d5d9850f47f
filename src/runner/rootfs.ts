import { mount, unmount } from '../store/index.js';
import { RunnerError } from './errors.js';
import type { Mount } from './types.js';

/** Mounts a snapshot's mounts (the store's mount module: overlay with its cwd, or bind for copy snapshots). */
export async function mountRootfs(mounts: Mount[], target: string): Promise<void> {
  if (mounts.length === 0) throw new RunnerError('RUNNER_BAD_ROOTFS', 'the rootfs has no mounts');
  await mount(mounts, target);
}

/** Unmounts `target`; never throws (teardown must go on), the store's unmount falls back to lazy. */
export async function unmountRootfs(target: string): Promise<void> {
  await unmount(target).catch(() => undefined);
}
