import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every temp dir of a suite run (the tests', and those of the CLIs, registries and containers they
 * start, which inherit TMPDIR) goes under one dir, removed when the run ends: a full run makes ~2,000
 * of them, some GB. A dir of its own per run, so two runs at once never remove each other's. Whatever
 * a test left mounted is lazily unmounted first; if a mount stays, the dir stays (rm -rf through a
 * mount would delete what it shows). TSBUILD_KEEP_TEST_TMP=1 keeps it for a post-mortem.
 */
export default function setup(): () => void {
  const run = mkdtempSync(join(tmpdir(), 'tsb-test-run-'));
  process.env.TMPDIR = run;
  return () => {
    if (process.env.TSBUILD_KEEP_TEST_TMP === '1') {
      process.stderr.write(`test temp dirs kept in ${run}\n`);
      return;
    }
    for (const m of mountsUnder(run).reverse()) {
      try {
        execFileSync('umount', ['-l', m], { stdio: 'ignore' });
      } catch {
        // checked below
      }
    }
    const left = mountsUnder(run);
    if (left.length > 0) {
      process.stderr.write(`test temp dir ${run} kept: still mounted: ${left.join(', ')}\n`);
      return;
    }
    rmSync(run, { recursive: true, force: true });
  };
}

/** Mount points at or below `dir`, in mount order (mountinfo field 5, octal escapes decoded). */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) =>
      l
        .split(' ')[4]
        ?.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8))),
    )
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)));
}
