import { Args, Flags } from '@oclif/core';
import { recordImage } from '../../exporter/index.js';
import { familiarReference, formatReference, parsePlatform, parseReference } from '../../oci/index.js';
import { pullImage, RegistryClient, type TransferEvent } from '../../registry/index.js';
import { openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';

export default class Pull extends BaseCommand {
  static override description = 'Pull an image from a registry into the local store';
  static override examples = [
    '<%= config.bin %> pull alpine:3.20',
    '<%= config.bin %> pull --platform linux/arm64 localhost:5000/app@sha256:…',
  ];
  static override args = {
    ref: Args.string({ description: 'image reference (NAME[:TAG][@DIGEST])', required: true }),
  };
  static override flags = {
    quiet: Flags.boolean({ char: 'q', description: 'print only the image reference', default: false }),
    platform: Flags.string({
      description: 'platform to pull from a multi-platform image (os/arch[/variant])',
    }),
    'insecure-registry': Flags.string({
      description: 'registry (host[:port]) to reach over plain HTTP',
      multiple: true,
      multipleNonGreedy: true,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Pull);
    const ref = parseReference(args.ref);
    const store = await openStore(this.rootDir(flags.root));
    const client = new RegistryClient({ insecureRegistries: flags['insecure-registry'] ?? [] });
    const seen = new Set<string>();
    const onProgress = (e: TransferEvent) => {
      const key = `${e.id}:${e.status}`;
      if (flags.quiet || seen.has(key) || e.status === 'downloading' || e.status === 'waiting') return;
      seen.add(key);
      const label =
        { exists: 'Already exists', done: 'Pull complete', retrying: 'Retrying' }[e.status as string] ??
        e.status;
      process.stderr.write(`${e.id}: ${label}\n`);
    };
    const r = await pullImage(client, store, ref, {
      ...(flags.platform ? { platform: parsePlatform(flags.platform), requirePlatform: true } : {}),
      onProgress,
    });
    await recordImage(store, formatReference(ref), r.manifestDescriptor, { pulled: true });
    if (!flags.quiet)
      process.stderr.write(
        `Digest: ${r.ref.digest}\nStatus: Downloaded image for ${familiarReference(ref)}\n`,
      );
    process.stdout.write(`${formatReference(ref)}\n`);
  }
}
