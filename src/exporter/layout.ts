import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { TsbuildError } from '../errors.js';
import { type Descriptor, encodeJson, MediaType } from '../oci/index.js';
import type { Store } from '../store/index.js';
import { TarOut } from './tar-out.js';

/** Everything an OCI layout (or docker archive) contains: blobs in order, plus small JSON files. */
export interface LayoutPlan {
  blobs: Descriptor[];
  files: { path: string; data: Buffer }[];
}

export interface LayoutImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** Extra documents (an index we keep) whose blobs must be in the layout too. */
  extra?: Descriptor[];
  /** Full names (`docker.io/library/app:1`). */
  names: string[];
  /** The index entries' `org.opencontainers.image.created` (see ExportContext.indexCreated). */
  created?: string;
}

function uniqueBlobs(imgs: LayoutImage[]): Descriptor[] {
  const seen = new Set<string>();
  return imgs
    .flatMap((img) => [...(img.extra ?? []), img.manifest, img.config, ...img.layers])
    .filter((d) => !seen.has(d.digest) && seen.add(d.digest));
}

function tagOf(name: string): string | undefined {
  const i = name.lastIndexOf(':');
  return i > name.lastIndexOf('/') ? name.slice(i + 1) : undefined;
}

/**
 * An OCI image layout as BuildKit writes it: index.json names the manifest (containerd + OCI ref
 * annotations); several images (`tsbuild save a b`) share one blobs dir, each blob once.
 */
export function ociLayoutPlan(images: LayoutImage | LayoutImage[]): LayoutPlan {
  const imgs = Array.isArray(images) ? images : [images];
  const manifests = imgs.flatMap((img) => indexEntries(img));
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  return {
    blobs: uniqueBlobs(imgs),
    files: [
      { path: 'oci-layout', data: encodeJson({ imageLayoutVersion: '1.0.0' }) },
      { path: 'index.json', data: encodeJson(index) },
    ],
  };
}

/** index.json's entries for one image: one per name, or one without. */
function indexEntries(img: LayoutImage): Descriptor[] {
  const entry = (name?: string): Descriptor => ({
    mediaType: img.manifest.mediaType,
    digest: img.manifest.digest,
    size: img.manifest.size,
    ...(name || img.created
      ? {
          annotations: {
            ...(name ? { 'io.containerd.image.name': name } : {}),
            ...(img.created ? { 'org.opencontainers.image.created': img.created } : {}),
            ...(name && tagOf(name) ? { 'org.opencontainers.image.ref.name': tagOf(name)! } : {}),
          },
        }
      : {}),
  });
  return img.names.length ? img.names.map(entry) : [entry()];
}

/** A docker archive as Docker 25+ `docker save` writes it: the OCI layout plus manifest.json (and `repositories`). */
export function dockerArchivePlan(images: LayoutImage | LayoutImage[]): LayoutPlan {
  const imgs = Array.isArray(images) ? images : [images];
  const oci = ociLayoutPlan(imgs);
  const blob = (d: Descriptor) => `blobs/sha256/${d.digest.slice(7)}`;
  const manifestJson = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const img of imgs) {
    const tags = img.names.map((n) => familiar(n));
    // Go's nil slice: docker save writes `null`, not `[]`, for an image saved by ID
    manifestJson.push({
      Config: blob(img.config),
      RepoTags: tags.length ? tags : null,
      Layers: img.layers.map(blob),
    });
    for (const t of tags) {
      const i = t.lastIndexOf(':');
      const repo = t.slice(0, i);
      repositories[repo] = {
        ...repositories[repo],
        [t.slice(i + 1)]: img.layers.at(-1)?.digest.slice(7) ?? '',
      };
    }
  }
  oci.files.push({ path: 'manifest.json', data: encodeJson(manifestJson) });
  if (Object.keys(repositories).length)
    oci.files.push({ path: 'repositories', data: encodeJson(repositories) });
  return oci;
}

/** `docker.io/library/app:1` → `app:1`, as docker writes RepoTags. */
function familiar(name: string): string {
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

/** Streams the plan as a tar (deterministic: fixed order, mtimes and owners). */
export async function writeLayoutTar(store: Store, plan: LayoutPlan, out: Writable): Promise<void> {
  const tar = new TarOut(out);
  for (const f of plan.files.filter((x) => x.path === 'oci-layout')) await tar.file(f.path, f.data);
  await tar.dir('blobs');
  await tar.dir('blobs/sha256');
  for (const d of plan.blobs)
    await tar.stream(
      `blobs/sha256/${d.digest.slice(7)}`,
      d.size,
      await store.content.read(d.digest, { verify: true }),
    );
  for (const f of plan.files.filter((x) => x.path !== 'oci-layout')) await tar.file(f.path, f.data);
  await tar.finish();
}

/**
 * Writes a tar to a file atomically (temp then rename), or to stdout for `-`. `write` may end the
 * stream it is given (a pipeline does) or leave it open.
 */
export async function writeTarFile(dest: string, write: (out: Writable) => Promise<void>): Promise<void> {
  if (dest === '-') {
    // Never end process.stdout: hand out a pass-through that forwards without ending it.
    const pt = new PassThrough();
    pt.pipe(process.stdout, { end: false });
    await write(pt);
    if (!pt.writableEnded) pt.end();
    await finished(pt);
    return;
  }
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  const ws = createWriteStream(tmp);
  // Its errors reach us through write() and finished(); one raised by the destroy below, with a
  // write still in flight (a source that failed mid-archive), must not crash the process.
  ws.on('error', () => {});
  try {
    await write(ws);
    if (!ws.writableEnded) ws.end();
    await finished(ws);
    await rename(tmp, dest);
  } catch (e) {
    ws.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Writes the plan as a directory (tar=false). Existing blobs of an existing layout are kept; index.json is replaced. */
export async function writeLayoutDir(store: Store, plan: LayoutPlan, dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st && !st.isDirectory())
    throw new TsbuildError('OUTPUT_EXISTS', `${dir} exists and is not a directory`);
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const d of plan.blobs) {
    const p = join(dir, 'blobs', 'sha256', d.digest.slice(7));
    const have = await stat(p).catch(() => undefined);
    if (have?.size === d.size) continue;
    const tmp = `${p}.tmp-${process.pid}`;
    try {
      await pipeline(await store.content.read(d.digest, { verify: true }), createWriteStream(tmp));
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    await rename(tmp, p);
  }
  for (const f of plan.files) {
    const tmp = join(dir, `.${f.path}.tmp-${process.pid}`);
    await writeFile(tmp, f.data);
    await rename(tmp, join(dir, f.path));
  }
}
