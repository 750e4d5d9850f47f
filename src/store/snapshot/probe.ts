import { promises as fsp } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { readJson, writeFileAtomic } from '../atomic.js';
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
    p = cachedProbe(root);
    cache.set(root, p);
  }
  return p;
}

interface ProbeRecord extends ProbeResult {
  /** The kernel release and the device of the root: a new kernel or a root moved elsewhere re-probes. */
  kernel: string;
  dev: number;
}

/**
 * The probe's answer is kept in `<root>/meta/overlay-probe.json`, and per filesystem in
 * `/run/tsbuild/` (root-only, gone at reboot) so that a fresh root on the same filesystem (a cold
 * build) does not probe either: a process start then pays no mount(8) runs. Only a positive answer
 * is kept: a failed probe may be transient (e.g. out of mounts), and the copy snapshotter is always
 * correct, just slower. The kernel release is part of the key (overlay's options change with it).
 */
async function cachedProbe(root: string): Promise<ProbeResult> {
  if (process.getuid?.() !== 0) return doProbe(root);
  const dev = (await fsp.stat(root)).dev;
  const kernel = release();
  const files = [join(root, 'meta', 'overlay-probe.json'), join(HOST_CACHE, `overlay-probe-${dev}.json`)];
  for (const file of files) {
    const rec = await readJson<ProbeRecord>(file).catch(() => undefined);
    if (
      rec?.kind === 'overlay' &&
      rec.kernel === kernel &&
      rec.dev === dev &&
      Array.isArray(rec.overlayOptions)
    ) {
      if (file !== files[0]) await save(files[0], rec);
      return { kind: 'overlay', overlayOptions: rec.overlayOptions };
    }
  }
  const p = await doProbe(root);
  if (p.kind === 'overlay') {
    const rec: ProbeRecord = { kind: p.kind, overlayOptions: p.overlayOptions, kernel, dev };
    await fsp.mkdir(HOST_CACHE, { recursive: true, mode: 0o700 }).catch(() => undefined);
    for (const file of files) await save(file, rec);
  }
  return p;
}

const HOST_CACHE = '/run/tsbuild';

function save(file: string, rec: ProbeRecord): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(rec)).catch(() => undefined);
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
