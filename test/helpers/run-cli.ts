import { spawn } from 'node:child_process';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');

/**
 * Runs the built CLI (npm test compiles first) without blocking the event loop: a test that serves
 * HTTP or a registry from its own process must keep answering while the CLI runs.
 */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; input?: string } = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('node', [bin, ...args], { env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
    p.stdin.end(opts.input ?? '');
  });
}
