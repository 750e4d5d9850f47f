import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ContextWatcher } from '../../src/watch/context-watcher.js';
import type { TreeWatcher } from '../../src/watch/tree-watcher.js';

const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));
/** Waits (not re-writes: a write is never repeated) until `ok`, for delivery under load; 5 s at most. */
async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await settle(50);
}
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** Directories of the context not under `skip` (what the watch should hold, one inotify watch each). */
function dirsOf(dir: string, skip: string): number {
  let n = 1;
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory() && e.name !== skip) n += dirsOf(join(dir, e.name), skip);
  return n;
}

describe('ContextWatcher re-watch on a .dockerignore change', () => {
  it('misses no change, deletion or new directory made while the watch is re-made', async () => {
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-rw-'));
    mkdirSync(join(ctx, 'src'));
    mkdirSync(join(ctx, 'logs'));
    for (let i = 0; i < 200; i++) writeFileSync(join(ctx, 'src', `old${i}`), '');
    writeFileSync(join(ctx, '.dockerignore'), 'logs\n');
    const seen = new Set<string>();
    const w = new ContextWatcher({
      context: ctx,
      outputs: [],
      onChange: (p) => {
        for (const x of p) seen.add(x);
      },
      onError: (e) => {
        throw e;
      },
    });
    closers.push(() => w.close());
    await w.start();
    const missed: string[] = [];
    for (let r = 0; r < 12; r++) {
      seen.clear();
      // Even rounds include logs/ (the old watch never watched it), odd rounds exclude it again.
      const logsIn = r % 2 === 0;
      writeFileSync(join(ctx, '.dockerignore'), logsIn ? `# round ${r}\n` : `logs\n# round ${r}\n`);
      const expected = [`src/old${r}`];
      rmSync(join(ctx, 'src', `old${r}`));
      // Writes spread over the re-watch window (the event, the re-read of the file, the new walk).
      for (let k = 0; k < 30; k++) {
        const f = k % 3 === 0 ? `src/d${r}-${k}/f` : `src/f${r}-${k}`;
        if (k % 3 === 0) mkdirSync(join(ctx, 'src', `d${r}-${k}`));
        writeFileSync(join(ctx, f), `${k}`);
        expected.push(f);
        if (logsIn) {
          writeFileSync(join(ctx, 'logs', `l${r}-${k}`), `${k}`);
          expected.push(`logs/l${r}-${k}`);
        }
        await tick();
      }
      await waitFor(() => expected.every((p) => seen.has(p)));
      missed.push(...expected.filter((p) => !seen.has(p)));
    }
    expect(missed).toEqual([]);

    // The watch set is right after all that: one watch per context directory, no leaked tree, and
    // directories made during the windows are watched (and removed ones forgotten).
    const tree = () => (w as unknown as { tree: TreeWatcher }).tree;
    await waitFor(() => tree().size === dirsOf(ctx, 'logs'));
    expect(tree().size).toBe(dirsOf(ctx, 'logs'));
    seen.clear();
    writeFileSync(join(ctx, 'src', 'd0-0', 'later'), 'x');
    rmSync(join(ctx, 'src', 'd11-3'), { recursive: true });
    await waitFor(() => seen.has('src/d0-0/later') && seen.has('src/d11-3'));
    expect(seen.has('src/d0-0/later')).toBe(true);
    expect(seen.has('src/d11-3')).toBe(true);
    await waitFor(() => tree().size === dirsOf(ctx, 'logs'));
    expect(tree().size).toBe(dirsOf(ctx, 'logs'));
  });
});
