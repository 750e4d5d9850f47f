import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Digest, isDigest } from '../oci/index.js';
import type { Store } from '../store/index.js';

/**
 * Remembers a blob layer re-compressed for export (source blob + codec + level → compressed blob),
 * so pushing the same uncompressed local image again costs a lookup, not a gzip of every layer.
 * Snapshot layers are remembered by the store itself (createLayer); this covers stored blobs.
 * A stale entry (blob collected by prune) is ignored.
 */
function memoPath(store: Store, source: Digest, codec: string, level: number | undefined): string {
  return join(store.root, 'exporter', 'compressed', `${source.slice(7)}-${codec}-${level ?? 'default'}.json`);
}

export async function lookupCompressed(
  store: Store,
  source: Digest,
  codec: string,
  level: number | undefined,
): Promise<{ digest: Digest; size: number } | undefined> {
  try {
    const v = JSON.parse(await readFile(memoPath(store, source, codec, level), 'utf8')) as {
      digest?: unknown;
      size?: unknown;
    };
    if (!isDigest(v.digest) || typeof v.size !== 'number') return undefined;
    return (await store.content.has(v.digest)) ? { digest: v.digest, size: v.size } : undefined;
  } catch {
    return undefined;
  }
}

export async function rememberCompressed(
  store: Store,
  source: Digest,
  codec: string,
  level: number | undefined,
  blob: { digest: Digest; size: number },
): Promise<void> {
  const file = memoPath(store, source, codec, level);
  await mkdir(join(store.root, 'exporter', 'compressed'), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, JSON.stringify({ digest: blob.digest, size: blob.size }));
  await rename(tmp, file);
}
