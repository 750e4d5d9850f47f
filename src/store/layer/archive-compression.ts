import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';

/** What moby's DecompressStream sniffs: the codecs an archive (ADD's, `docker load`'s) may come in. */
export type ArchiveCompression = 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** The codec whose magic number `b` starts with, if any. */
export function sniffCompression(b: Uint8Array): ArchiveCompression | undefined {
  const head = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return undefined;
}

/**
 * `tool -dc` over a file (a path) or a stream: what comes out, ending only once the tool exited 0.
 * A damaged or cut stream is an error even when what came out so far ends where a tar entry does
 * (Go's decompressors fail there too); `failed` words it from the tool's first line of stderr.
 */
export function toolDecompress(
  tool: 'bzip2' | 'xz' | 'zstd',
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
