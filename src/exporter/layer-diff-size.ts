import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TsbuildError } from '../errors.js';
import { type Descriptor, layerCompression } from '../oci/index.js';
import { chain, decompressStream, type Store, TarReader } from '../store/index.js';

/**
 * A layer's size as `docker history` and `docker images` show it: what dockerd's layer store
 * records when it applies the layer (overlay2's ApplyDiff, then pkg/directory.Size of the diff
 * dir), i.e. the bytes of each regular file (an inode once, so hard links are free) plus each
 * symlink's target length. Directories, devices, FIFOs and whiteouts count nothing; a name the
 * layer writes twice counts its last entry. Streams the blob: nothing beyond one chunk is held.
 */
export async function layerDiffSize(store: Store, layer: Descriptor): Promise<number> {
  const c = layerCompression(layer.mediaType);
  if (c === undefined)
    throw new TsbuildError('UNSUPPORTED_LAYER', `layer media type ${layer.mediaType} cannot be read`);
  const raw = await store.content.read(layer.digest, { verify: true });
  const tar: Readable = c === 'uncompressed' ? raw : chain(raw, decompressStream(c));
  const sizes = new Map<string, number>();
  const reader = new TarReader({
    entry: (e) => {
      // Trailing slashes and `./` vary between writers; the name is what the diff dir holds.
      const name = e.name.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
      if (e.type === 'File') sizes.set(name, e.size);
      // latin1 byte strings: the length is the target's byte count, as lstat reports it
      else if (e.type === 'SymbolicLink') sizes.set(name, e.linkpath.length);
      else if (e.type === 'Directory') sizes.delete(name);
      else sizes.set(name, 0);
    },
    data: () => {},
    endEntry: () => {},
  });
  for await (const chunk of tar) reader.write(chunk as Buffer);
  reader.end();
  let total = 0;
  for (const s of sizes.values()) total += s;
  return total;
}

/**
 * layerDiffSize of each layer, remembered per blob in `<root>/exporter/diff-size/` (a blob's bytes
 * never change, so neither does its size; an entry outliving its blob is never read again, as the
 * compressed-blob memo's): `images` reads each layer once, then only these small files.
 */
export async function layerDiffSizes(store: Store, layers: Descriptor[]): Promise<number[]> {
  const dir = join(store.root, 'exporter', 'diff-size');
  const out: number[] = [];
  for (const l of layers) {
    const file = join(dir, l.digest.replace(/^sha256:/, ''));
    const known = await readFile(file, 'utf8').catch(() => '');
    if (/^\d{1,15}$/.test(known)) {
      out.push(Number(known));
      continue;
    }
    const size = await layerDiffSize(store, l);
    // tmp + rename without fsync: a memo lost to a crash is only counted again
    await mkdir(dir, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, String(size));
    await rename(tmp, file);
    out.push(size);
  }
  return out;
}
