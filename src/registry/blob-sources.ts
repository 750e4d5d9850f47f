import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistryStore } from './types.js';

/**
 * Where each blob was pulled from or pushed to (`registry/repository`), so a push to another
 * repository of the same registry can mount instead of upload. Kept beside the store as small files;
 * losing them only costs an upload.
 */
function sourcesFile(store: RegistryStore, digest: string): string {
  return join(store.root, 'registry', 'blob-sources', digest.slice(7));
}

export async function blobSources(store: RegistryStore, digest: string): Promise<string[]> {
  try {
    return (await readFile(sourcesFile(store, digest), 'utf8')).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

export async function recordBlobSource(store: RegistryStore, digest: string, name: string): Promise<void> {
  const have = await blobSources(store, digest);
  if (have.includes(name)) return;
  // Most recent first, bounded: the list only serves mount guesses.
  const next = [name, ...have].slice(0, 8);
  const file = sourcesFile(store, digest);
  await mkdir(join(store.root, 'registry', 'blob-sources'), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, `${next.join('\n')}\n`);
  await rename(tmp, file);
}
