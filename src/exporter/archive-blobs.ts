import { once } from 'node:events';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { TsbuildError } from '../errors.js';
import type { BlobRef, Digest } from '../oci/index.js';
import {
  type ContentWriter,
  type LeaseHandle,
  type Store,
  type TarReadEntry,
  TarReader,
} from '../store/index.js';

/** What an archive held: each regular file's blob by its clean path, and its links. */
export interface ArchiveBlobs {
  files: Map<string, BlobRef>;
  /** Symlinks and hard links: clean path → the clean path they name inside the archive. */
  links: Map<string, string>;
}

type Ev = { entry: TarReadEntry } | { data: Buffer } | { end: true };

const BLOB_PATH = /^blobs\/sha256\/([0-9a-f]{64})$/;
const MAX_LINK_HOPS = 16;

/**
 * Streams every regular file of an (uncompressed) archive into the content store, leased, hashed as
 * it lands: nothing is buffered beyond one chunk, nothing written outside the store, so names in the
 * archive (`..`, absolute, links) cannot reach the filesystem. A file under `blobs/sha256/` must
 * hash to its name (image-layout.md), as a registry's blob must.
 */
export async function archiveBlobs(store: Store, input: Readable, lease: LeaseHandle): Promise<ArchiveBlobs> {
  const out: ArchiveBlobs = { files: new Map(), links: new Map() };
  const events: Ev[] = [];
  const reader = new TarReader({
    entry: (entry) => events.push({ entry }),
    data: (c) => events.push({ data: c }),
    endEntry: () => events.push({ end: true }),
  });
  let cur: { path: string; w: ContentWriter; expected?: Digest } | undefined;
  const handle = async (ev: Ev) => {
    if ('entry' in ev) {
      const path = cleanPath(ev.entry.name);
      if (path === undefined) return;
      if (ev.entry.type === 'File') {
        const blob = BLOB_PATH.exec(path)?.[1];
        const w = await store.content.writer({ ref: `load-${lease.id}-${out.files.size}` });
        cur = { path, w, ...(blob ? { expected: `sha256:${blob}` as Digest } : {}) };
      } else if (ev.entry.type === 'SymbolicLink') {
        // relative to the link's dir; an absolute target from the archive's top (cleanPath)
        const l = ev.entry.linkpath;
        const target = cleanPath(l.startsWith('/') ? l : posix.join(posix.dirname(path), l));
        if (target !== undefined) out.links.set(path, target);
      } else if (ev.entry.type === 'Link') {
        const target = cleanPath(ev.entry.linkpath);
        if (target !== undefined) out.links.set(path, target);
      }
    } else if ('data' in ev) {
      if (cur && !cur.w.write(ev.data)) await once(cur.w, 'drain');
    } else if (cur) {
      const { path, w, expected } = cur;
      cur = undefined;
      const ref = await w.commit(expected ? { digest: expected } : {}).catch((e: unknown) => {
        throw new TsbuildError('ARCHIVE_INVALID', `${path} in the archive does not match its digest`, {
          cause: e,
        });
      });
      await lease.addBlob(ref.digest);
      out.files.set(path, ref);
    }
  };
  try {
    for await (const chunk of input) {
      reader.write(chunk as Buffer);
      for (const ev of events.splice(0)) await handle(ev);
    }
    reader.end();
    for (const ev of events.splice(0)) await handle(ev);
  } catch (e) {
    await cur?.w.abort();
    // The store's own failures (a full disk) stay what they are; the tar reader speaks of layers
    // (LAYER_INVALID), and a decompressor of its format: here the tar is the archive itself.
    if (e instanceof TsbuildError && e.code !== 'LAYER_INVALID') throw e;
    const why = (e as Error).message.replace(/^invalid layer tar: /, '');
    throw new TsbuildError('ARCHIVE_INVALID', `not a readable image archive: ${why}`, { cause: e });
  }
  return out;
}

/** The blob a path of the archive names, through its links; undefined when it holds none. */
export function blobAt(a: ArchiveBlobs, path: string): BlobRef | undefined {
  let p = cleanPath(path);
  for (let i = 0; p !== undefined && i < MAX_LINK_HOPS; i++) {
    const f = a.files.get(p);
    if (f) return f;
    p = a.links.get(p);
  }
  return undefined;
}

/** `./a//b` -> `a/b`; `..` stops at the archive's top, as it does at a rootfs's. */
function cleanPath(name: string): string | undefined {
  const p = posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
  return p === '' ? undefined : p;
}
