import { createHash, randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** fsync a directory so a rename or create inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A file name for any key (tag names hold `/` and `:`): the first 40 hex digits of its sha256. */
export function hashName(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

/** The temp name beside `path` that a crash may leave behind (fsck/gc remove `*.tmp-*` files). */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.includes('.tmp-');
}

/**
 * Writes a small file so that readers see the old or the new content, never a mix: temp file in the
 * same directory, fsync, rename over, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempNameFor(path);
  const fh = await fsp.open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dirname(path));
}

/** Reads a JSON file; undefined if it does not exist. A corrupt file is an error (fsck reports it). */
export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

export function isEnoent(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** Is a process alive? (EPERM means alive but not ours.) */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
