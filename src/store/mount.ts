import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { StoreError } from './errors.js';
import type { Mount } from './types.js';

const run = promisify(execFile);

/** Page-size limit of the mount option string (the kernel copies one page of mount data). */
export const MOUNT_DATA_LIMIT = 4096;

/** overlayfs's limit on lower layers (fs/overlayfs: OVL_MAX_STACK); a mount with more fails EINVAL. */
export const OVERLAY_MAX_LOWERS = 500;

/**
 * Refuses overlay options with more lowers than the kernel stacks, with the reason (mount(8) says
 * only "wrong fs type, bad option…"). Wherever an overlay is planned: here, and in the runner, whose
 * runc mounts the root itself.
 */
export function checkOverlayDepth(options: string[]): void {
  const lowers = options.find((o) => o.startsWith('lowerdir='))?.split(':').length ?? 0;
  if (lowers > OVERLAY_MAX_LOWERS) {
    throw new StoreError(
      'MOUNT_FAILED',
      `an overlay of ${lowers} layers: the kernel stacks at most ${OVERLAY_MAX_LOWERS} (OVL_MAX_STACK)`,
      { hint: 'the image or its build has too many layers; squash some (docker refuses more than 125)' },
    );
  }
}

/**
 * Mounts `mounts` (in order) on `target` with mount(8). Overlay mounts run with `cwd` = the
 * snapshots dir so lowerdirs can be short relative paths; Node cannot chdir per call, a child can.
 */
export async function mount(mounts: Mount[], target: string): Promise<void> {
  for (const m of mounts) {
    if (m.type === 'bind') {
      const ro = m.options.includes('ro');
      await mountCmd(['--rbind', m.source, target], m.cwd);
      if (ro) await mountCmd(['-o', 'remount,bind,ro', target], m.cwd);
      continue;
    }
    const data = m.options.join(',');
    checkOverlayDepth(m.options);
    if (data.length >= MOUNT_DATA_LIMIT) {
      throw new StoreError(
        'MOUNT_FAILED',
        `overlay options are ${data.length} bytes, over the kernel's ${MOUNT_DATA_LIMIT}`,
        {
          hint: 'the snapshot chain is too deep; squash layers',
        },
      );
    }
    await mountCmd(['-t', m.type, m.source, target, '-o', data], m.cwd);
  }
}

async function mountCmd(args: string[], cwd?: string): Promise<void> {
  try {
    await run('mount', args, cwd ? { cwd } : {});
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    // A long chain's lowerdir list is pages of numbers: its count says what matters.
    const said = args.map((a) =>
      a.replace(/lowerdir=([^,]*)/, (all, l: string) =>
        all.length > 200 ? `lowerdir=<${l.split(':').length} dirs>` : all,
      ),
    );
    throw new StoreError('MOUNT_FAILED', `mount ${said.join(' ')} failed: ${msg}`, { cause: e });
  }
}

/** Unmounts `target` (recursively for rbind). Retries briefly on EBUSY, then detaches lazily. */
export async function unmount(target: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    try {
      await run('umount', ['-R', target]);
      return;
    } catch (e) {
      const msg = (e as { stderr?: string }).stderr ?? '';
      if (/not mounted|no mount point/i.test(msg)) return;
      if (!/busy/i.test(msg))
        throw new StoreError('MOUNT_FAILED', `umount ${target} failed: ${msg.trim()}`, { cause: e });
      await new Promise((r) => setTimeout(r, 50 * (i + 1)));
    }
  }
  await run('umount', ['-R', '-l', target]);
}

export async function withMount<T>(
  mounts: Mount[],
  target: string,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  await mount(mounts, target);
  try {
    return await fn(target);
  } finally {
    await unmount(target);
  }
}
