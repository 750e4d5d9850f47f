import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import type { ArchiveCompression } from './compression.js';

/**
 * `tool -dc` over a file (a path) or a stream: what comes out, ending only once the tool exited 0.
 * A damaged or cut stream is an error even when what came out so far ends where a tar entry does
 * (Go's decompressors fail there too); `failed` words it from the tool's first line of stderr.
 */
export function toolDecompress(
  tool: Exclude<ArchiveCompression, 'gzip'>,
  input: string | Readable,
  failed: (why: string) => Error,
): Readable {
  const fromFile = typeof input === 'string';
  const child = spawn(tool, fromFile ? ['-dc', input] : ['-dc'], {
    stdio: [fromFile ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let why = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (why.length < 4096) why += d.toString();
  });
  const out = new PassThrough();
  // Its reader sees the error; one after the reader stopped (a probe) must not crash the process.
  out.on('error', () => {});
  if (!fromFile && child.stdin) {
    input.on('error', (e) => out.destroy(e));
    // The tool may stop reading early (a damaged stream): its exit reports that, not the pipe.
    child.stdin.on('error', () => {});
    input.pipe(child.stdin);
  }
  child.stdout!.pipe(out, { end: false });
  child.once('error', (e) => out.destroy(failed(`${tool} could not be run: ${e.message}`)));
  child.once('close', (code) => {
    if (code === 0) out.end();
    else if (!out.destroyed) out.destroy(failed(why.trim().split('\n')[0] || `${tool} -d exited ${code}`));
  });
  // A reader that stops early (the tar probe) destroys the stream; the tool must not outlive it.
  out.once('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return out;
}
