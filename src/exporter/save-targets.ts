import { type Descriptor, parseReference } from '../oci/index.js';
import type { Store } from '../store/index.js';
import { findImage, isUntaggedRecord } from './image-store.js';

/** An image to save and the names its archive entry carries. */
export interface SaveTarget {
  source: Descriptor;
  names: string[];
}

/**
 * What `docker save QUERY` writes for one query: `name:tag` that image under that name; a bare
 * repository (`app`) every tagged image of it, each with its tags of that repository; an ID or
 * digest the image without a name (RepoTags null), as dockerd 20.10's `docker save` does.
 */
export async function saveTargets(store: Store, query: string): Promise<SaveTarget[]> {
  const bare = bareRepository(query);
  if (bare) {
    const byImage = new Map<string, SaveTarget>();
    for (const t of (await store.meta.tags.list()).sort((a, b) => a.name.localeCompare(b.name))) {
      if (isUntaggedRecord(t.name)) continue;
      const r = parseReference(t.name);
      if (r.registry !== bare.registry || r.repository !== bare.repository || r.tag === undefined) continue;
      const e = byImage.get(t.target.digest) ?? { source: t.target, names: [] };
      e.names.push(t.name);
      byImage.set(t.target.digest, e);
    }
    if (byImage.size > 0) return [...byImage.values()];
  }
  const { descriptor, tags } = await findImage(store, query);
  // A query that found the image by ID or digest names none of its tags (a bare repository
  // spelled like a short ID, `abcd`, was taken above when it has tags).
  return [{ source: descriptor, names: /^(sha256:)?[a-f0-9]{4,64}$/.test(query.trim()) ? [] : tags }];
}

/** The repository a query names without a tag or digest (`app`, `reg:5000/app`), if it does. */
function bareRepository(query: string): { registry: string; repository: string } | undefined {
  try {
    const r = parseReference(query.trim(), { defaultTag: false });
    return r.tag === undefined && r.digest === undefined ? r : undefined;
  } catch {
    return undefined;
  }
}
