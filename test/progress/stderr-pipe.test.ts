import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';

requireRoot();
requireBinary('runc');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');

// The renderers write to fd 2 with writeSync (progress/select.ts), not through process.stderr. A
// reader that lets the pipe fill up must still get every line, in order: the writes block, or a
// non-blocking fd's EAGAIN hands the rest to process.stderr for good.
describe('progress on a pipe nobody reads for a while', () => {
  it('arrives whole and in order once it is read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsb-progress-pipe-'));
    copyFileSync('/bin/busybox', join(dir, 'busybox'));
    writeFileSync(
      join(dir, 'Dockerfile'),
      'FROM scratch\nCOPY busybox /bin/sh\nRUN ["/bin/sh", "-c", "seq 1 40000"]\n',
    );
    const child = spawn('node', [bin, 'build', '--root', join(dir, 'root'), '--progress', 'plain', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // ~300 KB of output against a 64 KB pipe: the build stalls on it until the reader starts.
    child.stderr.pause();
    await new Promise((r) => setTimeout(r, 2500));
    let text = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      text += c;
    });
    child.stderr.resume();
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, text.slice(-2000)).toBe(0);
    const numbers = [...text.matchAll(/^#3 \d+\.\d+ (\d+)$/gm)].map((m) => Number(m[1]));
    expect(numbers.length).toBe(40000);
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
    expect(text).toMatch(
      /#3 DONE [\d.]+s\n\nexporting manifest sha256:[0-9a-f]{64} done\nwriting image sha256:[0-9a-f]{64} done\n/,
    );
  }, 60_000);
});
