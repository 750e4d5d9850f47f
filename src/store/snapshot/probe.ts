import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { mount, unmount } from '../mount.js';
import type { SnapshotterKind } from '../types.js';

export interface ProbeResult {
  kind: SnapshotterKind;
  overlayOptions: string[];
  reason?: string;
}

const cache = new Map<string, Promise<ProbeResult>>();

/**
 * Can overlay mount here (upper on this filesystem, e.g. not on overlay or some FUSE)? Tries a real
 * mount of two lowers + upper in `<root>/tmp`, first with redirect_dir/index off (an upper must stay a
 * plain diff: no redirects, no index), then without. Cached per root for the process.
 */
export function probeSnapshotter(root: string): Promise<ProbeResult> {
  let p = cache.get(root);
  if (!p) {
    p = doProbe(root);
    cache.set(root, p);
  }
  return p;
}

async function doProbe(root: string): Promise<ProbeResult> {
  if (process.getuid?.() !== 0) return { kind: 'copy', overlayOptions: [], reason: 'not root' };
  const dir = await fsp.mkdtemp(join(root, 'tmp', `${process.pid}-probe-`));
  let reason = '';
  try {
    for (const d of ['l1', 'l2', 'u', 'w', 'm']) await fsp.mkdir(join(dir, d));
    for (const opts of [['index=off', 'redirect_dir=off', 'metacopy=off'], ['index=off'], []]) {
      try {
        await mount(
          [
            {
              type: 'overlay',
              source: 'overlay',
              options: ['lowerdir=l1:l2', 'upperdir=u', 'workdir=w', ...opts],
              cwd: dir,
            },
          ],
          join(dir, 'm'),
        );
        await fsp.writeFile(join(dir, 'm', 'x'), 'x');
        await unmount(join(dir, 'm'));
        return { kind: 'overlay', overlayOptions: opts };
      } catch (e) {
        reason = (e as Error).message;
      }
    }
    return { kind: 'copy', overlayOptions: [], reason };
  } finally {
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
