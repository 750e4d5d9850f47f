import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { TsbuildError } from '../errors.js';
import { chain, decompressStream } from '../store/index.js';

type Kind = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'tar';

/**
 * The tar inside `input`: `docker load` takes an archive plain or compressed with gzip, bzip2, xz
 * or zstd (moby's DecompressStream sniffs the same magic numbers).
 */
export async function decompressedArchive(input: Readable): Promise<Readable> {
  const kind = kindOf(await peek(input, 6));
  if (kind === 'tar') return input;
  if (kind === 'gzip' || kind === 'zstd') return chain(input, decompressStream(kind));
  return toolStream(kind, input);
}

function kindOf(b: Buffer): Kind {
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (b.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'tar';
}

/** The first `n` bytes, put back for the reader that follows. */
function peek(input: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    const off = () => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', reject);
    };
    const onReadable = () => {
      for (let c = input.read() as Buffer | null; c !== null; c = len < n ? input.read() : null) {
        chunks.push(c);
        len += c.length;
      }
      if (len < n) return;
      off();
      const b = Buffer.concat(chunks);
      input.unshift(b);
      resolve(b.subarray(0, n));
    };
    // A tar is two 512-byte blocks at least: a few bytes are no archive of any kind.
    const onEnd = () => {
      off();
      reject(new TsbuildError('ARCHIVE_INVALID', `not an image archive: the input ends after ${len} bytes`));
    };
    input.on('readable', onReadable);
    input.once('end', onEnd);
    input.once('error', reject);
  });
}

/** bzip2 and xz through their tools; the stream fails unless the tool exits 0. */
function toolStream(tool: 'bzip2' | 'xz', input: Readable): Readable {
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let why = '';
  child.stderr.on('data', (d: Buffer) => {
    if (why.length < 4096) why += d.toString();
  });
  const out = new PassThrough();
  input.on('error', (e) => out.destroy(e));
  // The tool may stop reading early (a damaged stream): its closed stdin is its exit's to report.
  child.stdin.on('error', () => {});
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.once('error', (e) =>
    out.destroy(new TsbuildError('ARCHIVE_INVALID', `${tool} could not be run: ${e.message}`)),
  );
  child.once('close', (code) => {
    if (code === 0) out.end();
    else if (!out.destroyed)
      out.destroy(
        new TsbuildError('ARCHIVE_INVALID', `${tool}: ${why.trim().split('\n')[0] || `exit ${code}`}`),
      );
  });
  out.once('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return out;
}
