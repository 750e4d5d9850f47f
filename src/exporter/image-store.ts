import { TsbuildError } from '../errors.js';
import {
  type Descriptor,
  type Digest,
  formatReference,
  hostPlatform,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  isDigest,
  type Platform,
  parseImageConfig,
  parseManifestOrIndex,
  parseReference,
  selectPlatform,
} from '../oci/index.js';
import type { Store, TagRecord } from '../store/index.js';

const MAX_DOC = 4 * 1024 * 1024;

/** A manifest, index or config from the store (bounded: these are read whole). */
export async function readDoc(store: Store, digest: Digest): Promise<Buffer> {
  // One stat: info() is the presence check too.
  const info = await store.content.info(digest).catch((e: unknown) => {
    if ((e as { code?: unknown }).code !== 'BLOB_NOT_FOUND') throw e;
    throw new TsbuildError('IMAGE_INCOMPLETE', `blob ${digest} is missing from the store`, {
      hint: 'pull or build the image again',
    });
  });
  if (info.size > MAX_DOC) throw new TsbuildError('INVALID_MANIFEST', `document ${digest} is too large`);
  return store.content.readAt(digest, 0, info.size);
}

export interface LoadedImage {
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  index?: { descriptor: Descriptor; index: ImageIndex };
}

/** Reads a manifest (or an index, then the platform's manifest) and its config from the store. */
export async function loadImage(
  store: Store,
  desc: Descriptor,
  platform: Platform = hostPlatform(),
): Promise<LoadedImage> {
  const bytes = await readDoc(store, desc.digest);
  const parsed = parseManifestOrIndex(bytes, desc.mediaType);
  if (parsed.kind === 'index') {
    const entry = selectPlatform(parsed.index, platform);
    const inner = await loadImage(store, entry, platform);
    return { ...inner, index: { descriptor: desc, index: parsed.index } };
  }
  const config = parseImageConfig(await readDoc(store, parsed.manifest.config.digest));
  const mediaType = parsed.manifest.mediaType ?? desc.mediaType;
  return {
    descriptor: { mediaType, digest: desc.digest, size: desc.size },
    manifest: parsed.manifest,
    config,
  };
}

/** Normalized tag name: `app` → `docker.io/library/app:latest`; digests are not tags. */
export function tagName(name: string): string {
  const ref = parseReference(name);
  if (ref.digest)
    throw new TsbuildError('INVALID_REFERENCE', `"${name}" has a digest; a tag cannot`, {
      hint: 'give NAME[:TAG]',
    });
  return formatReference(ref);
}

/**
 * Points tag `name` at `target`. With `keepReplaced`, the image the tag pointed at before stays as
 * `<none>` when no other tag names it (Docker: `build -t app` twice, `tag`); watch does not keep them.
 */
export async function tagImage(
  store: Store,
  name: string,
  target: Descriptor,
  opts: { keepReplaced?: boolean } = {},
): Promise<string> {
  const key = tagName(name);
  const rec = await store.meta.tags.get(key);
  const before = rec?.target;
  if (before && sameTarget(before, target)) return key;
  // Three independent records, written at once (their fsyncs overlap): the tag; the image no
  // longer listed as <none> (Docker's dangling image); the image the tag named before, now <none>
  // unless another tag names it. A tag that already said this has no untagged record beside it
  // (`recordUntagged` skips tagged images): none of that then.
  await Promise.all([
    writeRecord(store, key, target, rec, null),
    store.meta.tags.get(target.digest).then((r) => r && store.meta.tags.delete(target.digest)),
    opts.keepReplaced && before && before.digest !== target.digest
      ? recordUntagged(store, before, key)
      : undefined,
  ]);
  return key;
}

function sameTarget(a: Descriptor, b: Descriptor): boolean {
  return a.digest === b.digest && a.mediaType === b.mediaType && a.size === b.size;
}

/**
 * The record of an image a build made without a name (Docker's `<none>` image), keyed by its
 * manifest digest: `inspect`, `tag`, `save` and `rm` find it by ID or digest, and `images` lists it,
 * until `prune` drops it or a tag takes its place.
 */
export async function recordUntagged(store: Store, target: Descriptor, retagging?: string): Promise<void> {
  // An image that has a tag is listed under it, never also as <none> (as in Docker). `retagging` is
  // being moved off it at this moment, so whatever it says is not counted.
  const tags = await store.meta.tags.list({ apart: false });
  if (
    tags.some((t) => t.name !== retagging && !isUntaggedRecord(t.name) && t.target.digest === target.digest)
  )
    return;
  const old = await store.meta.tags.get(target.digest);
  // A rebuild that made the same image: the record on disk already says it (no fsynced rewrite).
  if (old && sameTarget(old.target, target)) return;
  await writeRecord(store, target.digest, target, old, null);
}

/** Drops the untagged images' records (older than `olderThanMs`, by their last build): `prune`'s first step. */
export async function dropUntagged(
  store: Store,
  opts: { olderThanMs?: number; dryRun?: boolean } = {},
): Promise<number> {
  const cutoff = Date.now() - (opts.olderThanMs ?? 0);
  let n = 0;
  for (const t of await store.meta.tags.list()) {
    if (!isUntaggedRecord(t.name) || t.updatedAt > cutoff) continue;
    n++;
    if (!opts.dryRun) await store.meta.tags.delete(t.name);
  }
  return n;
}

/** A record that is no tag: an untagged image, keyed by its digest. */
export function isUntaggedRecord(key: string): boolean {
  return key.startsWith('sha256:');
}

/**
 * Records a pulled (or loaded) image under its reference: `name:tag`, or `name@sha256:…` for a
 * digest pull (listed with TAG <none>, like Docker), so the store keeps its content until `rm`.
 * `pulled`: it came from that name's registry, so the digest it has there is the one stored.
 */
export async function recordImage(
  store: Store,
  ref: string,
  target: Descriptor,
  { pulled = false }: { pulled?: boolean } = {},
): Promise<string> {
  const r = parseReference(ref, { defaultTag: false });
  const key =
    r.tag !== undefined
      ? formatReference({ registry: r.registry, repository: r.repository, tag: r.tag })
      : formatReference(r);
  const repoDigest = pulled ? (target.digest as Digest) : null;
  const old = await store.meta.tags.get(key);
  // A rebuild that made the same image: the record on disk already says it (no fsynced rewrite).
  if (old && sameTarget(old.target, target) && (old.repoDigest === repoDigest || !pulled)) return key;
  await writeRecord(store, key, target, old, repoDigest);
  return key;
}

/**
 * After a push of the image `source` (the local target, by its digest) as `name`: when the tag
 * `name` names that image, it and the repository's other tags naming it now have `repoDigest` in
 * their registry (`images --digests`, RepoDigests).
 */
export async function noteRepoDigest(
  store: Store,
  name: string,
  source: Descriptor,
  repoDigest: Digest,
): Promise<void> {
  const key = tagName(name);
  const rec = await store.meta.tags.get(key);
  if (!rec || !sameTarget(rec.target, source)) return;
  // Every tag of the repository naming the image learns it (docker keeps it on the image), so
  // that one of them moving on to another image leaves the others knowing it.
  const { registry, repository } = parseReference(key);
  for (const t of await store.meta.tags.list()) {
    if (isUntaggedRecord(t.name) || !sameTarget(t.target, source) || t.repoDigest === repoDigest) continue;
    const r = parseReference(t.name);
    if (r.registry === registry && r.repository === repository)
      await writeRecord(store, t.name, t.target, t, repoDigest);
  }
}

async function writeRecord(
  store: Store,
  key: string,
  target: Descriptor,
  old: TagRecord | undefined,
  repoDigest: Digest | null,
) {
  const now = Date.now();
  await store.meta.tags.put(key, {
    name: key,
    target: { mediaType: target.mediaType, digest: target.digest, size: target.size },
    createdAt: old?.createdAt ?? now,
    updatedAt: now,
    repoDigest,
  });
}

/** Finds an image by tag (`app`, `app:1`), by `name@sha256:…`, by manifest digest or id (config digest, or a prefix ≥ 4). */
export async function findImage(
  store: Store,
  query: string,
): Promise<{ descriptor: Descriptor; tags: string[]; records: string[] }> {
  const found = await findRecords(store, query);
  return { ...found, tags: found.records.filter((k) => !isUntaggedRecord(k)) };
}

async function findRecords(
  store: Store,
  query: string,
): Promise<{ descriptor: Descriptor; records: string[] }> {
  const q = query.trim();
  const hex = /^(sha256:)?([a-f0-9]{4,64})$/.exec(q);
  // Only a digest or id query needs every tag: a name is one record (a build resolving its base).
  const ref = hex ? undefined : parseReference(q);
  if (ref && !ref.digest) {
    const rec = await store.meta.tags.get(formatReference(ref));
    if (!rec) throw notFound(query);
    return { descriptor: rec.target, records: [rec.name] };
  }
  const tags = await store.meta.tags.list();
  if (hex) {
    const prefix = `sha256:${hex[2]}`;
    const byDigest = tags.filter((t) => t.target.digest.startsWith(prefix));
    const byId: TagRecord[] = [];
    for (const t of tags) {
      if (byDigest.includes(t)) continue;
      const img = await loadImage(store, t.target).catch(() => undefined);
      if (img?.manifest.config.digest.startsWith(prefix)) byId.push(t);
    }
    const all = [...byDigest, ...byId];
    const digests = new Set(all.map((t) => t.target.digest));
    if (digests.size === 1) return { descriptor: all[0]!.target, records: all.map((t) => t.name) };
    if (digests.size > 1)
      throw new TsbuildError('AMBIGUOUS_IMAGE', `"${query}" matches ${digests.size} images`, {
        hint: 'give more digits',
      });
    if (hex[1] === undefined && hex[2]!.length < 64) {
      // a bare short word like `abcd` may still be a repository name
    } else throw notFound(query);
  }
  const named = ref ?? parseReference(q);
  if (named.digest) {
    const t = tags.find((x) => x.target.digest === named.digest);
    if (t)
      return {
        descriptor: t.target,
        records: tags.filter((x) => x.target.digest === named.digest).map((x) => x.name),
      };
    if (isDigest(named.digest) && (await store.content.has(named.digest))) {
      const parsed = parseManifestOrIndex(await readDoc(store, named.digest));
      const doc = parsed.kind === 'index' ? parsed.index : parsed.manifest;
      const mediaType = doc.mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
      const info = await store.content.info(named.digest);
      return { descriptor: { mediaType, digest: named.digest, size: info.size }, records: [] };
    }
    throw notFound(query);
  }
  const rec = await store.meta.tags.get(formatReference(named));
  if (!rec) throw notFound(query);
  return { descriptor: rec.target, records: [rec.name] };
}

function notFound(query: string): TsbuildError {
  return new TsbuildError('IMAGE_NOT_FOUND', `no image "${query}" in the local store`, {
    hint: 'see `tsbuild images`; pull it with `tsbuild pull` or build it with `tsbuild build -t`',
  });
}

/**
 * Removes tags: a name removes that tag; a digest or id removes every tag of that image, which
 * docker refuses without `force` when they are more than one tag or in more than one repository.
 * Blobs go at the next prune.
 */
export async function removeImage(
  store: Store,
  query: string,
  opts: { force?: boolean } = {},
): Promise<string[]> {
  const { descriptor, records } = await findImage(store, query);
  const q = query.trim();
  let remove = records;
  if (q.includes('@')) {
    // `name@digest` removes that digest record only, never the image's named tags.
    const key = formatReference(parseReference(q, { defaultTag: false }));
    remove = (await store.meta.tags.get(key)) ? [key] : [];
    if (remove.length === 0) throw notFound(query);
  } else if (!/^(sha256:)?[a-f0-9]{4,64}$/.test(q)) remove = [tagName(q)];
  else if (!opts.force && !singleReference(records.filter((r) => !isUntaggedRecord(r)))) {
    const id = (await loadListed(store, descriptor)).manifest.config.digest.slice('sha256:'.length, 19);
    throw new TsbuildError(
      'IMAGE_CONFLICT',
      `conflict: unable to delete ${id} (must be forced) - image is referenced in multiple repositories`,
      { hint: 'remove it by name, one tag at a time, or give -f to remove every tag' },
    );
  }
  for (const t of remove) await store.meta.tags.delete(t);
  return remove;
}

/**
 * moby's isSingleReference: at most one tag, and its digest references (`name@sha256:`) in its
 * repository only. An image with none is single too (its `<none>` record goes without force).
 */
function singleReference(named: string[]): boolean {
  if (named.length <= 1) return true;
  const tagged = named.filter((n) => !n.includes('@'));
  if (tagged.length > 1) return false;
  const repo = (n: string) => {
    const r = parseReference(n, { defaultTag: false });
    return `${r.registry}/${r.repository}`;
  };
  const canonical = new Set(named.filter((n) => n.includes('@')).map(repo));
  return canonical.size === 1 && canonical.has(repo(tagged[0] ?? named[0]!));
}

/** The host's image of an index, else its first platform's (an index built for other platforms only). */
export async function loadListed(store: Store, target: Descriptor): Promise<LoadedImage> {
  try {
    return await loadImage(store, target);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'PLATFORM_NOT_FOUND') throw e;
    const parsed = parseManifestOrIndex(await readDoc(store, target.digest as Digest), target.mediaType);
    const first = parsed.kind === 'index' ? parsed.index.manifests.find((m) => m.platform) : undefined;
    if (!first?.platform) throw e;
    return loadImage(store, target, first.platform as Platform);
  }
}
