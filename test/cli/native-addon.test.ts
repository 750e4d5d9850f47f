import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeContext, useBusyboxRegistry } from '../e2e/helpers.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

requireRoot();
requireBinary('runc');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');

describe('the CLI (its bundle in dist/) loads the native addon', () => {
  const base = useBusyboxRegistry();

  it('has build/Release/tsbuild_native.node mapped while a RUN step runs, and its container sees default signals', async () => {
    const ctx = makeContext({
      Dockerfile: `FROM ${base()}\nRUN grep -E '^Sig(Ign|Blk)' /proc/self/status && sleep 2\n`,
    });
    const root = mkdtempSync(join(tmpdir(), 'tsb-native-'));
    const p = spawn('node', [bin, 'build', '--root', root, '--progress', 'plain', '-t', 'native:1', ctx], {
      env: { ...process.env, TSBUILD_NO_NATIVE: '' },
    });
    let stderr = '';
    let mapped = false;
    p.stderr.on('data', (d: Buffer) => {
      stderr += d;
      // The RUN's output is there: runc was started, so the addon is loaded if it is used at all.
      if (!mapped && stderr.includes('SigBlk')) {
        mapped = readFileSync(`/proc/${p.pid}/maps`, 'utf8').includes('tsbuild_native.node');
      }
    });
    const status = await new Promise<number | null>((r) => p.on('close', r));
    expect(status, stderr).toBe(0);
    expect(mapped).toBe(true);
    // Through the addon's clone, glibc's signals 32 and 33 are not left ignored (posix_spawn would).
    expect(stderr).toMatch(/SigBlk:\s+0{16}/);
    expect(stderr).toMatch(/SigIgn:\s+0{16}/);
  });
});
