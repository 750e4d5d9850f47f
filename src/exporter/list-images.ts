import { type Digest, parseReference } from '../oci/index.js';
import type { Store, TagRecord } from '../store/index.js';
import { isUntaggedRecord, loadListed } from './image-store.js';
import { layerDiffSizes } from './layer-diff-size.js';
import type { LocalImage } from './types.js';

/**
 * What a tag record says the image's digest in its registry is (docker's RepoDigests): its
 * `repoDigest`, or for a record from before those were kept, its target (what `images` showed then).
 */
export function recordRepoDigest(t: TagRecord): Digest | null {
  return t.repoDigest === undefined ? (t.target.digest as Digest) : t.repoDigest;
}

/**
 * Each repository's digests of the images its tags name (docker's RepoDigests, per repository):
 * any tag of the repository that knows it gives it to the others naming the same image. A record
 * from before repo digests were kept is taken to be its target (what `images` showed then), unless
 * a newer record says otherwise.
 */
function repoDigestsOf(records: TagRecord[]): Map<string, Digest> {
  const out = new Map<string, Digest>();
  for (const t of records) {
    const d = recordRepoDigest(t);
    if (isUntaggedRecord(t.name) || !d) continue;
    const r = parseReference(t.name);
    const key = `${r.registry}/${r.repository}|${t.target.digest}`;
    if (t.repoDigest || !out.has(key)) out.set(key, d);
  }
  return out;
}

/** Every tag with its image id, creation time and size, newest first. */
export async function listImages(store: Store): Promise<LocalImage[]> {
  const out: LocalImage[] = [];
  const records = await store.meta.tags.list();
  const repoDigests = repoDigestsOf(records);
  for (const t of records) {
    const ref = isUntaggedRecord(t.name)
      ? { registry: '', repository: '<none>', tag: undefined }
      : parseReference(t.name);
    const repoDigest = repoDigests.get(`${ref.registry}/${ref.repository}|${t.target.digest}`);
    try {
      const img = await loadListed(store, t.target);
      const size = img.manifest.layers.reduce(
        (a, l) => a + l.size,
        img.manifest.config.size + img.descriptor.size,
      );
      out.push({
        name: ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository,
        ...(ref.tag ? { tag: ref.tag } : {}),
        digest: t.target.digest,
        mediaType: t.target.mediaType,
        id: img.manifest.config.digest,
        ...(img.config.created ? { created: img.config.created } : {}),
        size,
        ...(repoDigest ? { repoDigest } : {}),
        // a layer blob gone or damaged (fsck --repair) leaves the image listed, uncounted
        unpackedSize: await layerDiffSizes(store, img.manifest.layers).then(
          (s) => s.reduce((a, n) => a + n, 0),
          () => 0,
        ),
      });
    } catch {
      // a tag whose content is gone is still listed, so `rm` can remove it
      out.push({
        name: ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository,
        ...(ref.tag ? { tag: ref.tag } : {}),
        digest: t.target.digest,
        mediaType: t.target.mediaType,
        id: t.target.digest,
        size: 0,
        unpackedSize: 0,
      });
    }
  }
  return out.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
}
