import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Mount, mount, OVERLAY_MAX_LOWERS, unmount } from '../../src/store/index.js';
import { requireRoot } from '../helpers/require.js';
import { tempDir } from './helpers.js';

requireRoot();

/** n empty lower dirs named 1..n under `dir`, and the `lowerdir` option naming them (top first). */
function lowers(dir: string, n: number): string {
  for (let i = 1; i <= n; i++) mkdirSync(join(dir, String(i), 'fs'), { recursive: true });
  return `lowerdir=${Array.from({ length: n }, (_, i) => `${n - i}/fs`).join(':')}`;
}

describe('store mount: deep overlay chains', () => {
  it(`mounts ${OVERLAY_MAX_LOWERS} lowers (relative to cwd), refuses one more with the reason`, async () => {
    const dir = tempDir('tsb-mount-');
    const target = join(dir, 't');
    mkdirSync(target);
    await mount([{ type: 'overlay', source: 'overlay', options: [lowers(dir, 500)], cwd: dir }], target);
    try {
      expect(readFileSync('/proc/self/mounts', 'utf8')).toContain(target);
    } finally {
      await unmount(target);
    }
    const deep: Mount[] = [{ type: 'overlay', source: 'overlay', options: [lowers(dir, 501)], cwd: dir }];
    await expect(mount(deep, target)).rejects.toThrow(
      /an overlay of 501 layers: the kernel stacks at most 500/,
    );
  });

  it("a failed mount's error gives a long lowerdir list as its count, not pages of paths", async () => {
    const dir = tempDir('tsb-mount-');
    const target = join(dir, 't');
    mkdirSync(target);
    // 300 lowers of which none exists: mount(8) fails.
    const options = [`lowerdir=${Array.from({ length: 300 }, (_, i) => `missing${i}`).join(':')}`];
    const err = (await mount([{ type: 'overlay', source: 'overlay', options, cwd: dir }], target).catch(
      (e: Error) => e,
    )) as Error;
    expect(err.message).toMatch(/^mount -t overlay overlay \S+ -o lowerdir=<300 dirs> failed: /);
    expect(err.message.length).toBeLessThan(600);
  });
});
