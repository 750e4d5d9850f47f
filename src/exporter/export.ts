import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { TsbuildError } from '../errors.js';
import {
  type Descriptor,
  isIndexMediaType,
  layerCompression,
  MediaType,
  parseReference,
} from '../oci/index.js';
import { pushImage, RegistryClient } from '../registry/index.js';
import { chain, decompressStream, extractLayer, type Store, writeLayerTar } from '../store/index.js';
import { commitImage, retypeImage } from './commit.js';
import { type LoadedImage, loadImage, noteRepoDigest, tagImage, tagName } from './image-store.js';
import {
  dockerArchivePlan,
  type LayoutImage,
  ociLayoutPlan,
  writeLayoutDir,
  writeLayoutTar,
  writeTarFile,
} from './layout.js';
import type { SaveTarget } from './save-targets.js';
import type { CommitOptions, ExportContext, ExportResult, ImageModel, OutputSpec } from './types.js';

function isModel(x: ImageModel | Descriptor): x is ImageModel {
  return (x as ImageModel).layers !== undefined;
}

/** Commit settings an output asks for; docker archives default to Docker media types (as BuildKit). */
export function commitOptionsFor(output: OutputSpec, ctx: ExportContext = {}): CommitOptions {
  return {
    ociMediaTypes: output.ociMediaTypes ?? output.type !== 'docker',
    // Flattened outputs unpack the layers at once: compressing them first would be wasted work.
    compression:
      output.compression ?? (output.type === 'local' || output.type === 'tar' ? 'uncompressed' : 'gzip'),
    ...(output.compressionLevel !== undefined ? { level: output.compressionLevel } : {}),
    forceCompression: output.forceCompression,
    // Local images keep uncompressed layers (as the Docker engine); what leaves the machine is compressed.
    compressUncompressed:
      output.type === 'registry' || output.type === 'oci' || output.type === 'docker' || output.push,
    ...(output.rewriteTimestamp && ctx.epoch !== undefined ? { sourceDateEpoch: ctx.epoch } : {}),
  };
}

/** The image in the form this output needs: committed from the model, or re-typed/re-compressed from a stored one. */
async function materialize(
  store: Store,
  source: ImageModel | Descriptor,
  output: OutputSpec,
  ctx: ExportContext,
): Promise<LoadedImage> {
  if (isModel(source)) {
    const c = await commitImage(store, source, commitOptionsFor(output, ctx));
    return { descriptor: c.descriptor, manifest: c.manifest, config: c.config };
  }
  return adapt(store, await loadImage(store, source, ctx.platform), output);
}

/** A stored image re-typed or re-compressed when this output wants other media types or codecs. */
async function adapt(store: Store, img: LoadedImage, output: OutputSpec): Promise<LoadedImage> {
  const opts = commitOptionsFor(output);
  const isOci = img.descriptor.mediaType === MediaType.ociManifest;
  const wantOci = output.ociMediaTypes ?? isOci;
  const want = output.compression ?? 'gzip';
  const convert = img.manifest.layers.some((l) => {
    const have = layerCompression(l.mediaType);
    return have !== want && (opts.forceCompression || (opts.compressUncompressed && have === 'uncompressed'));
  });
  if (wantOci === isOci && !convert) return img;
  const r = await retypeImage(store, img.manifest, img.config.rootfs.diff_ids, wantOci, opts);
  return { descriptor: r.descriptor, manifest: r.manifest, config: img.config };
}

export function namesFor(output: OutputSpec, ctx: ExportContext): string[] {
  return [...new Set([...(ctx.tags ?? []), ...output.names].map(tagName))];
}

/**
 * Layer blobs decompressed and applied in order onto a plain directory: the image's filesystem.
 * `ours`: every entry owned by this process, as BuildKit's local exporter writes them (its
 * filesync target rewrites each entry's uid/gid to the client's own and makes a missing dest 0700).
 */
export async function flatten(
  store: Store,
  img: LoadedImage,
  dir: string,
  { ours = false, epoch }: { ours?: boolean; epoch?: number | undefined } = {},
): Promise<void> {
  if (resolve(dir) === '/') {
    throw new TsbuildError('INVALID_OUTPUT', 'refusing to unpack an image over /', {
      hint: 'give type=local a dedicated dest directory',
    });
  }
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST' && e.code !== 'ENOTDIR') throw e;
    throw new TsbuildError('INVALID_OUTPUT', `${dir} is not a directory`, {
      hint: 'give type=local a directory (it is made when missing)',
      cause: e,
    });
  });
  for (const l of img.manifest.layers) {
    const c = layerCompression(l.mediaType);
    if (c === undefined)
      throw new TsbuildError('UNSUPPORTED_LAYER', `layer media type ${l.mediaType} cannot be unpacked`);
    const raw = await store.content.read(l.digest, { verify: true });
    const tar: Readable = c === 'uncompressed' ? raw : chain(raw, decompressStream(c));
    // FIFOs and device nodes are part of the filesystem: BuildKit's tar exporter writes them and
    // its local exporter makes them (as root; mknod needs it).
    await extractLayer(tar, dir, {
      mode: 'flat',
      devices: process.getuid?.() === 0 ? 'create' : 'skip',
      ...(ours ? { sameOwner: false } : {}),
      // BuildKit's local and tar exporters date every file by SOURCE_DATE_EPOCH (a set, not a clamp).
      ...(epoch !== undefined ? { mtime: epoch } : {}),
    });
  }
}

export async function push(
  store: Store,
  img: Pick<LoadedImage, 'descriptor' | 'index'>,
  names: string[],
  ctx: ExportContext,
): Promise<string[]> {
  if (names.length === 0) {
    throw new TsbuildError('NO_PUSH_NAME', 'nothing to push to: the image has no name', {
      hint: 'give -t REGISTRY/REPO:TAG or name= in --output',
    });
  }
  const client = ctx.registry ?? new RegistryClient();
  const desc = img.index?.descriptor ?? img.descriptor;
  for (const n of names) {
    const pushed = await pushImage(client, store, desc, parseReference(n), {
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
    });
    // a local tag of that name that is this image (a build's push=true) now has its repo digest
    await noteRepoDigest(store, n, desc, pushed.digest);
  }
  return names;
}

/** Exports one image (a model from the solver, or a manifest/index already in the store) to one output. */
export async function exportImage(
  store: Store,
  source: ImageModel | Descriptor,
  output: OutputSpec,
  ctx: ExportContext = {},
): Promise<ExportResult> {
  if (
    !isModel(source) &&
    isIndexMediaType(source.mediaType) &&
    (output.type === 'image' || output.type === 'registry')
  ) {
    // An index kept as is (pulled multi-platform image): tag or push it whole.
    const img = await loadImage(store, source, ctx.platform);
    return finish(store, img, output, ctx);
  }
  const img = await materialize(store, source, output, ctx);
  return finish(store, img, output, ctx);
}

async function finish(
  store: Store,
  img: LoadedImage,
  output: OutputSpec,
  ctx: ExportContext,
): Promise<ExportResult> {
  const names = namesFor(output, ctx);
  const res: ExportResult = {
    output,
    digest: img.descriptor.digest,
    configDigest: img.manifest.config.digest,
    tags: [],
    ...(output.dest ? { dest: output.dest } : {}),
    ...(img.index
      ? {}
      : { image: { descriptor: img.descriptor, manifest: img.manifest, config: img.config } }),
  };
  const layout: LayoutImage = {
    manifest: img.descriptor,
    config: img.manifest.config,
    layers: img.manifest.layers,
    names,
    ...(ctx.indexCreated ? { created: ctx.indexCreated } : {}),
  };
  switch (output.type) {
    case 'image':
      for (const n of names)
        res.tags.push(
          await tagImage(store, n, img.index?.descriptor ?? img.descriptor, {
            keepReplaced: ctx.keepReplaced === true,
          }),
        );
      if (output.push) await push(store, img, names, ctx);
      break;
    case 'registry':
      res.tags = await push(store, img, names, ctx);
      break;
    case 'oci':
    case 'docker':
      await writeArchive(store, [layout], output);
      break;
    case 'local':
      await flatten(store, img, output.dest!, { ours: true, epoch: ctx.epoch });
      break;
    case 'tar':
      await writeFlatTar(store, [{ img, dir: '' }], output.dest!, ctx.epoch);
      break;
  }
  return res;
}

/** `tsbuild save A B…`: stored images in one docker or OCI archive, as `docker save a b` writes. */
export async function exportArchive(
  store: Store,
  images: SaveTarget[],
  output: OutputSpec,
  ctx: ExportContext = {},
): Promise<void> {
  if (output.type !== 'oci' && output.type !== 'docker')
    throw new TsbuildError(
      'USAGE',
      `several images go into a docker or OCI archive only, not type=${output.type}`,
    );
  const layouts: LayoutImage[] = [];
  for (const { source, names } of images) {
    const img = await materialize(store, source, output, ctx);
    layouts.push({
      manifest: img.descriptor,
      config: img.manifest.config,
      layers: img.manifest.layers,
      names,
    });
  }
  await writeArchive(store, layouts, output);
}

async function writeArchive(store: Store, layouts: LayoutImage[], output: OutputSpec): Promise<void> {
  const plan = output.type === 'oci' ? ociLayoutPlan(layouts) : dockerArchivePlan(layouts);
  if (output.tar) await writeTarFile(output.dest!, (out) => writeLayoutTar(store, plan, out));
  else await writeLayoutDir(store, plan, output.dest!);
}

/** A `type=tar` output: the images flattened (each into its `dir`, '' the top) and tarred, owners kept. */
export async function writeFlatTar(
  store: Store,
  parts: { img: LoadedImage; dir: string }[],
  dest: string,
  epoch: number | undefined,
): Promise<void> {
  const tmp = await store.tempDir('export-tar-');
  try {
    for (const p of parts) await flatten(store, p.img, p.dir ? join(tmp, p.dir) : tmp, { epoch });
    await writeTarFile(dest, async (out) => {
      await writeLayerTar(tmp, out, { source: 'plain' });
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Every output of one build; outputs that need the same commit settings share one commit. */
export async function exportImages(
  store: Store,
  image: ImageModel | Descriptor,
  outputs: OutputSpec[],
  ctx: ExportContext = {},
): Promise<ExportResult[]> {
  const list = outputs.length
    ? outputs
    : [
        {
          type: 'image',
          tar: true,
          names: [],
          push: false,
          forceCompression: false,
          attrs: {},
        } satisfies OutputSpec,
      ];
  // The commit's manifest and config go on as they are: reading them back from the store is wasted IO.
  const committed = new Map<string, LoadedImage>();
  const results: ExportResult[] = [];
  for (const o of list) {
    if (!isModel(image)) {
      results.push(await exportImage(store, image, o, ctx));
      continue;
    }
    const opts = commitOptionsFor(o, ctx);
    const key = JSON.stringify(opts);
    let img = committed.get(key);
    if (!img) {
      const c = await commitImage(store, image, opts);
      img = { descriptor: c.descriptor, manifest: c.manifest, config: c.config };
      committed.set(key, img);
    }
    results.push(await finish(store, await adapt(store, img, o), o, ctx));
  }
  return results;
}
