import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyInto } from '../../src/solver/ops/copy-tree.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsb-copy-times-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('per-entry COPY keeps source times', () => {
  it('a time just below a whole second stays in that second (no millisecond rounding up)', async () => {
    const src = join(tmp, 'src');
    mkdirSync(join(src, 'd'), { recursive: true });
    writeFileSync(join(src, 'd', 'f'), 'x');
    // 0.9996 s: Node's Stats Date rounds this to the next second; layer tars store whole seconds.
    execFileSync('touch', ['-h', '-d', '@1795975996.9996', join(src, 'd', 'f'), join(src, 'd')]);
    const dest = join(tmp, 'dest');
    mkdirSync(dest);
    await copyInto(src, undefined, dest, '/out', false, { preserveOwner: false });
    for (const p of ['out/d/f', 'out/d']) {
      const st = statSync(join(dest, p), { bigint: true });
      expect(st.mtimeNs / 1_000_000_000n).toBe(1795975996n);
      expect(Number(st.mtimeNs % 1_000_000_000n) / 1e9).toBeCloseTo(0.9996, 5);
    }
  });
});
