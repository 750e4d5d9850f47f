import { createReadStream, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TsbuildError } from '../errors.js';
import {
  type Descriptor,
  type Digest,
  type ImageIndex,
  isDigest,
  type Platform,
  parseImageConfig,
  parseManifestOrIndex,
  selectPlatform,
} from '../oci/index.js';
import type { PullResult } from '../registry/index.js';
import { limiter } from '../registry/limit.js';
import { MAX_MANIFEST, readAll } from '../registry/pull.js';
import type { Store } from '../store/index.js';

// buildx's `--build-context NAME=oci-layout://PATH[:TAG][@DIGEST]`: an image in a local OCI image
// layout (image-spec image-layout.md) stands in for NAME, as a registry image does with
// docker-image://. Its blobs are copied into the store (each verified against its digest, as a
// registry's are) before the build uses them.

const PREFIX = 'oci-layout://';
/** `org.opencontainers.image.ref.name`, and containerd's full name (buildkit's ociindex reads both). */
const NAME_KEYS = ['org.opencontainers.image.ref.name', 'io.containerd.image.name'];
const MAX_INDEX = 4 * 1024 * 1024;

/** A layout image: the layout's directory and the digest of the manifest or index chosen in it. */
export interface OciLayoutRef {
  dir: string;
  digest: Digest;
}

export function isOciLayoutRef(ref: string): boolean {
  return ref.startsWith(PREFIX);
}

/** The form a stage's base takes in the frontend (resolveImage's ref): `oci-layout://DIR@DIGEST`. */
export function formatOciLayoutRef(r: OciLayoutRef): string {
  return `${PREFIX}${r.dir}@${r.digest}`;
}

function parseOciLayoutRef(ref: string): OciLayoutRef {
  const at = ref.lastIndexOf('@');
  return { dir: ref.slice(PREFIX.length, at), digest: ref.slice(at + 1) as Digest };
}

/**
 * A `--build-context` value as buildx reads it (build/build.go): the digest after `@`, else the tag
 * after the first `:` (default `latest`) looked up in index.json by its ref name, else the layout's
 * only image. Read now, so a missing layout or tag fails before the build starts.
 */
export function ociLayoutContext(value: string, bad: (why: string) => Error): OciLayoutRef {
  let rest = value.slice(PREFIX.length);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) [rest, digest] = [rest.slice(0, at), rest.slice(at + 1)];
  const colon = rest.indexOf(':');
  const tag = colon >= 0 ? rest.slice(colon + 1) : 'latest';
  if (colon >= 0) rest = rest.slice(0, colon);
  if (rest === '') throw bad('no layout directory after oci-layout://');
  if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) throw bad(`bad digest "${digest}"`);
  let dir: string;
  try {
    dir = realpathSync(resolve(rest));
  } catch {
    throw bad(`${resolve(rest)} not found`);
  }
  const manifests = readIndex(dir, bad).manifests;
  if (digest) return { dir, digest: digest as Digest };
  const named = manifests.find((m) => NAME_KEYS.some((k) => m.annotations?.[k] === tag));
  const found = named ?? (manifests.length === 1 ? manifests[0] : undefined);
  if (!found) throw bad(`no image tagged "${tag}" in ${dir}/index.json (${manifests.length} entries)`);
  return { dir, digest: found.digest as Digest };
}

function readIndex(dir: string, bad: (why: string) => Error): ImageIndex {
  const file = join(dir, 'index.json');
  try {
    const st = statSync(file);
    if (!st.isFile()) throw bad(`${file} is not a regular file`);
    if (st.size > MAX_INDEX) throw bad(`${file} is larger than ${MAX_INDEX} bytes`);
    const parsed = parseManifestOrIndex(readFileSync(file), 'application/vnd.oci.image.index.v1+json');
    if (parsed.kind !== 'index') throw bad(`${file} is not an image index`);
    return parsed.index;
  } catch (e) {
    if (e instanceof TsbuildError) throw e;
    throw bad(`${file}: ${(e as Error).message} (not an OCI image layout?)`);
  }
}

/**
 * The layout image for `platform` as a pull's result: its manifest (an index's entry for the
 * platform), config and layers copied into the store through its verified ingest, so the FROM step
 * and the exporters find them there as they find a pulled image's.
 */
export async function importOciLayout(
  store: Store,
  ref: string,
  platform: Platform,
): Promise<{ pinned: string; result: PullResult }> {
  const { dir, digest } = parseOciLayoutRef(ref);
  const top = descriptorOf(dir, digest);
  const copy = (d: Descriptor) => copyBlob(store, dir, d);
  const small = async (d: Descriptor) => {
    if (d.size > MAX_MANIFEST) throw invalid(dir, `${d.digest} is ${d.size} bytes, too large for JSON`);
    await copy(d);
    return readAll(await store.content.read(d.digest as Digest), MAX_MANIFEST);
  };
  let parsed = parseManifestOrIndex(await small(top), top.mediaType);
  let manifestDescriptor = top;
  let index: PullResult['index'];
  if (parsed.kind === 'index') {
    index = { descriptor: top, index: parsed.index };
    manifestDescriptor = selectPlatform(parsed.index, platform, dir);
    parsed = parseManifestOrIndex(await small(manifestDescriptor), manifestDescriptor.mediaType);
  }
  if (parsed.kind !== 'manifest') throw invalid(dir, `${manifestDescriptor.digest} is not an image manifest`);
  const manifest = parsed.manifest;
  const config = parseImageConfig(await small(manifest.config));
  if (config.rootfs.diff_ids.length !== manifest.layers.length)
    throw invalid(dir, `${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`);
  const gate = limiter(4);
  await Promise.all(manifest.layers.map((l) => gate(() => copy(l))));
  const result: PullResult = {
    ref: { registry: 'oci-layout', repository: 'local', digest: manifestDescriptor.digest },
    manifestDescriptor,
    manifest,
    config,
    configDigest: manifest.config.digest as Digest,
    ...(index ? { index } : {}),
  };
  // Pinned to the platform manifest, as a pulled image's reference is.
  return { pinned: formatOciLayoutRef({ dir, digest: manifestDescriptor.digest as Digest }), result };
}

/**
 * The chosen blob's descriptor, from the file itself: index.json was read when the context was
 * (ociLayoutContext), its kind is read from the JSON, and the ingest checks the bytes by digest.
 */
function descriptorOf(dir: string, digest: Digest): Descriptor {
  const st = statSync(blobFile(dir, digest), { throwIfNoEntry: false });
  if (!st?.isFile()) throw invalid(dir, `${digest} is not in blobs/`);
  return { mediaType: '', digest, size: st.size };
}

async function copyBlob(store: Store, dir: string, d: Descriptor): Promise<void> {
  if (!isDigest(d.digest) || !d.digest.startsWith('sha256:')) throw invalid(dir, `bad digest "${d.digest}"`);
  if (await store.content.has(d.digest as Digest)) return;
  const file = blobFile(dir, d.digest as Digest);
  // A FIFO or device would be read until it ends (never, for /dev/zero: the ingest stops it at the
  // size, but a FIFO would hang the build).
  if (!statSync(file, { throwIfNoEntry: false })?.isFile())
    throw invalid(dir, `blob ${d.digest} is missing or not a regular file`);
  try {
    await store.content.ingest(createReadStream(file), { digest: d.digest as Digest, size: d.size });
  } catch (e) {
    throw new TsbuildError(
      'INVALID_OCI_LAYOUT',
      `OCI layout ${dir}: blob ${d.digest}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

function blobFile(dir: string, digest: Digest): string {
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

function invalid(dir: string, why: string): TsbuildError {
  return new TsbuildError('INVALID_OCI_LAYOUT', `OCI layout ${dir}: ${why}`);
}
