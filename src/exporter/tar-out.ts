import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { Header } from 'tar/header';
import { TsbuildError } from '../errors.js';

const BLOCK = 512;
const ZERO = Buffer.alloc(BLOCK * 2);
/** Fixed mtime so the same image always gives the same archive bytes (BuildKit does the same). */
const MTIME = new Date(0);

/**
 * A minimal streaming tar writer for archives whose entries we name ourselves (OCI layout, docker
 * archive): directories and regular files, ustar headers from node-tar's codec, backpressure honoured.
 */
export class TarOut {
  constructor(private readonly out: Writable) {}

  private async write(buf: Buffer): Promise<void> {
    if (!this.out.write(buf)) await once(this.out, 'drain');
  }

  private header(path: string, type: 'File' | 'Directory', size: number, mode: number): Buffer {
    if (Buffer.byteLength(path) > 100)
      throw new TsbuildError('TAR_PATH_TOO_LONG', `archive path too long: ${path}`);
    const buf = Buffer.alloc(BLOCK);
    new Header({ path, type, size, mode, mtime: MTIME, uid: 0, gid: 0, uname: '', gname: '' }).encode(buf, 0);
    return buf;
  }

  async dir(path: string): Promise<void> {
    await this.write(this.header(path.endsWith('/') ? path : `${path}/`, 'Directory', 0, 0o755));
  }

  async file(path: string, data: Buffer): Promise<void> {
    await this.write(this.header(path, 'File', data.length, 0o644));
    await this.write(data);
    await this.pad(data.length);
  }

  /** A file streamed from `src`, which must yield exactly `size` bytes. */
  async stream(path: string, size: number, src: Readable): Promise<void> {
    await this.write(this.header(path, 'File', size, 0o644));
    let n = 0;
    for await (const c of src as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > size) break;
      await this.write(c);
    }
    if (n !== size) {
      src.destroy();
      throw new TsbuildError('BLOB_SIZE_MISMATCH', `${path}: expected ${size} bytes, read ${n}`);
    }
    await this.pad(size);
  }

  private async pad(size: number): Promise<void> {
    const r = size % BLOCK;
    if (r) await this.write(Buffer.alloc(BLOCK - r));
  }

  async finish(): Promise<void> {
    await this.write(ZERO);
  }
}
