import { join } from 'node:path';
import { TsbuildError } from '../errors.js';
import {
  type Descriptor,
  encodeJson,
  formatPlatform,
  type ImageIndex,
  MediaType,
  normalizePlatform,
  type Platform,
  sha256Digest,
} from '../oci/index.js';
import type { Store } from '../store/index.js';
import { commitImage } from './commit.js';
import { commitOptionsFor, flatten, namesFor, push, writeFlatTar } from './export.js';
import { type LoadedImage, tagImage } from './image-store.js';
import { ociLayoutPlan, writeLayoutDir, writeLayoutTar, writeTarFile } from './layout.js';
import type { ExportContext, ExportResult, ImageModel, OutputSpec } from './types.js';

/** One platform's image of a multi-platform build. */
export interface PlatformImage {
  platform: Platform;
  model: ImageModel;
}

/** A multi-platform export: the index (its digest is the result's) and each platform's image. */
export interface IndexExportResult extends Omit<ExportResult, 'image'> {
  index: { descriptor: Descriptor; index: ImageIndex; images: LoadedImage[] };
}

/** BuildKit's local exporter splits a multi-platform result by platform: `linux_amd64/`, `linux_arm_v7/`. */
export function platformDir(p: Platform): string {
  return formatPlatform(p).replaceAll('/', '_');
}

/**
 * A multi-platform build's outputs (BuildKit with several `--platform`s): one manifest per platform
 * under an image index (OCI, or a Docker manifest list with `oci-mediatypes=false`) that `image`
 * tags, `registry` pushes and `oci` writes as its layout's one entry; `local` and `tar` put each
 * platform's filesystem in its own directory. A docker archive holds one image: refused, as BuildKit.
 */
export async function exportIndex(
  store: Store,
  images: PlatformImage[],
  outputs: OutputSpec[],
  ctx: ExportContext = {},
): Promise<IndexExportResult[]> {
  if (outputs.some((o) => o.type === 'docker'))
    throw new TsbuildError(
      'INVALID_OUTPUT',
      'docker exporter does not currently support exporting manifest lists',
      { hint: 'use type=oci or type=image for several --platform values, or build one platform' },
    );
  const made = new Map<string, IndexExportResult['index']>();
  const results: IndexExportResult[] = [];
  for (const output of outputs) {
    const opts = commitOptionsFor(output, ctx);
    const key = JSON.stringify(opts);
    let index = made.get(key);
    if (!index) {
      index = await commitIndex(store, images, opts, ctx.indexAnnotations);
      made.set(key, index);
    }
    results.push(await finishIndex(store, index, images, output, ctx));
  }
  return results;
}

async function commitIndex(
  store: Store,
  images: PlatformImage[],
  opts: ReturnType<typeof commitOptionsFor>,
  annotations: Record<string, string> | undefined,
): Promise<IndexExportResult['index']> {
  const committed: LoadedImage[] = [];
  for (const { model } of images) {
    const c = await commitImage(store, model, opts);
    committed.push({ descriptor: c.descriptor, manifest: c.manifest, config: c.config });
  }
  const oci = opts.ociMediaTypes ?? true;
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: oci ? MediaType.ociIndex : MediaType.dockerManifestList,
    manifests: committed.map((c) => {
      const { os, architecture, variant } = normalizePlatform(c.config);
      return { ...c.descriptor, platform: { architecture, os, ...(variant ? { variant } : {}) } };
    }),
    // a Docker manifest list has no annotations field
    ...(annotations && Object.keys(annotations).length > 0 && oci ? { annotations } : {}),
  };
  const bytes = encodeJson(index);
  const descriptor: Descriptor = {
    mediaType: index.mediaType!,
    digest: sha256Digest(bytes),
    size: bytes.length,
  };
  await store.content.ingest(bytes, { digest: descriptor.digest, size: descriptor.size });
  return { descriptor, index, images: committed };
}

async function finishIndex(
  store: Store,
  index: IndexExportResult['index'],
  images: PlatformImage[],
  output: OutputSpec,
  ctx: ExportContext,
): Promise<IndexExportResult> {
  const names = namesFor(output, ctx);
  const res: IndexExportResult = {
    output,
    digest: index.descriptor.digest,
    // an index has no config: `--iidfile` and `-q` give its digest, as buildx does
    configDigest: index.descriptor.digest,
    tags: [],
    ...(output.dest ? { dest: output.dest } : {}),
    index,
  };
  const whole = { descriptor: index.descriptor, index: { descriptor: index.descriptor, index: index.index } };
  switch (output.type) {
    case 'image':
      for (const n of names)
        res.tags.push(
          await tagImage(store, n, index.descriptor, { keepReplaced: ctx.keepReplaced === true }),
        );
      if (output.push) await push(store, whole, names, ctx);
      break;
    case 'registry':
      res.tags = await push(store, whole, names, ctx);
      break;
    case 'oci': {
      const children = index.images.flatMap((i) => [i.descriptor, i.manifest.config, ...i.manifest.layers]);
      const plan = ociLayoutPlan({
        manifest: index.descriptor,
        config: index.images[0]!.manifest.config,
        layers: [],
        extra: children,
        names,
        ...(ctx.indexCreated ? { created: ctx.indexCreated } : {}),
      });
      if (output.tar) await writeTarFile(output.dest!, (out) => writeLayoutTar(store, plan, out));
      else await writeLayoutDir(store, plan, output.dest!);
      break;
    }
    case 'local':
      for (const [i, img] of index.images.entries())
        await flatten(store, img, join(output.dest!, platformDir(images[i]!.platform)), {
          ours: true,
          epoch: ctx.epoch,
        });
      break;
    case 'tar': {
      const parts = index.images.map((img, i) => ({ img, dir: platformDir(images[i]!.platform) }));
      await writeFlatTar(store, parts, output.dest!, ctx.epoch);
      break;
    }
  }
  return res;
}
