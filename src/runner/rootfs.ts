import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RunnerError } from './errors.js';
import type { Mount } from './types.js';

const run = promisify(execFile);

/**
 * Mounts a snapshot's mounts (containerd style) at `target`. The runner only needs overlay and bind;
 * mount(8) is used because Node has no mount(2), and it copes with long overlay option strings.
 */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  if (mounts.length !== 1) {
    throw new RunnerError('RUNNER_BAD_ROOTFS', `a rootfs needs exactly one mount, got ${mounts.length}`);
  }
  const m = mounts[0]!;
  const args =
    m.type === 'bind'
      ? ['--bind', ...(m.options.length ? ['-o', m.options.join(',')] : []), m.source, target]
      : ['-t', m.type, ...(m.options.length ? ['-o', m.options.join(',')] : []), m.source, target];
  try {
    await run('mount', args, m.cwd ? { cwd: m.cwd } : {});
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr?.trim() || String(e);
    throw new RunnerError('RUNNER_MOUNT_FAILED', `mounting the rootfs failed: ${msg}`, { cause: e });
  }
}

/** Unmounts `target`, retrying while busy and falling back to a lazy unmount so nothing stays mounted. */
export async function unmountAll(target: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    try {
      await run('umount', [target]);
      return;
    } catch (e) {
      const msg = String((e as { stderr?: string }).stderr ?? '');
      if (/not mounted|no mount point/i.test(msg)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await run('umount', ['-l', target]).catch(() => undefined);
}
