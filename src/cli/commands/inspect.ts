import { Args, Flags } from '@oclif/core';
import { findImage, isUntaggedRecord, loadImage, recordRepoDigest } from '../../exporter/index.js';
import { familiarReference, hostPlatform, parsePlatform, parseReference } from '../../oci/index.js';
import { openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';
import { checkTemplate, renderTemplate, unescapeFormat } from '../go-template.js';

export default class Inspect extends BaseCommand {
  static override description = 'Print the manifest and config of a local image (JSON)';
  static override examples = ['<%= config.bin %> inspect app:dev'];
  static override args = {
    ref: Args.string({ description: 'image (name[:tag], digest or id)', required: true }),
  };
  static override flags = {
    format: Flags.string({
      char: 'f',
      description:
        "a Go template of the JSON, as docker inspect's: {{.Id}}, {{.RootFS.Layers}}, {{json .Config.config}}",
    }),
    platform: Flags.string({ description: 'platform to show from a multi-platform image' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Inspect);
    const store = await openStore(this.rootDir(flags.root));
    const { descriptor } = await findImage(store, args.ref);
    // As `docker image inspect`: every tag of the image, whichever name found it, in docker's short form.
    const named = (await store.meta.tags.list()).filter(
      (t) => t.target.digest === descriptor.digest && !isUntaggedRecord(t.name),
    );
    const tags = named.map((t) => familiarReference(parseReference(t.name))).sort();
    // docker's RepoDigests: NAME@DIGEST per repository that has the image (pulled or pushed)
    const repoDigests = [
      ...new Set(
        named.flatMap((t) => {
          const d = recordRepoDigest(t);
          const { tag: _, ...repo } = parseReference(t.name);
          return d ? [familiarReference({ ...repo, digest: d })] : [];
        }),
      ),
    ].sort();
    const img = await loadImage(
      store,
      descriptor,
      flags.platform ? parsePlatform(flags.platform) : hostPlatform(),
    );
    const out = {
      Id: img.manifest.config.digest,
      RepoTags: tags,
      RepoDigests: repoDigests,
      Digest: img.descriptor.digest,
      MediaType: img.descriptor.mediaType,
      ...(img.index
        ? { Index: { Digest: img.index.descriptor.digest, MediaType: img.index.descriptor.mediaType } }
        : {}),
      Size: img.manifest.layers.reduce((a, l) => a + l.size, 0),
      // `docker image inspect`'s names for what scripts read most (`.Architecture`, `.RootFS.Layers`).
      ...(img.config.created ? { Created: img.config.created } : {}),
      ...(img.config.author ? { Author: img.config.author } : {}),
      Architecture: img.config.architecture,
      Os: img.config.os,
      ...(img.config.variant ? { Variant: img.config.variant } : {}),
      RootFS: { Type: 'layers', Layers: img.config.rootfs.diff_ids },
      Manifest: img.manifest,
      Config: img.config,
    };
    if (flags.format !== undefined) {
      const body = unescapeFormat(flags.format);
      checkTemplate(body, flags.format);
      process.stdout.write(`${renderTemplate(body, out)}\n`);
      return;
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  }
}
