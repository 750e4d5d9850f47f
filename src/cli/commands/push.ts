import { Args, Flags } from '@oclif/core';
import { exportImage, findImage, noteRepoDigest, parseOutput } from '../../exporter/index.js';
import { formatReference, parseReference } from '../../oci/index.js';
import { pushImage, RegistryClient, type TransferEvent } from '../../registry/index.js';
import { openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';

export default class Push extends BaseCommand {
  static override description = 'Push an image from the local store to a registry';
  static override examples = [
    '<%= config.bin %> push localhost:5000/app:1',
    '<%= config.bin %> push app:1 registry.example.com/team/app:1',
  ];
  static override args = {
    ref: Args.string({ description: 'local image (name[:tag], digest or id)', required: true }),
    dest: Args.string({ description: 'destination reference (default: REF)' }),
  };
  static override flags = {
    quiet: Flags.boolean({ char: 'q', description: 'print only the pushed reference', default: false }),
    'insecure-registry': Flags.string({
      description: 'registry (host[:port]) to reach over plain HTTP',
      multiple: true,
      multipleNonGreedy: true,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Push);
    const store = await openStore(this.rootDir(flags.root));
    const { descriptor } = await findImage(store, args.ref);
    const dest = parseReference(args.dest ?? args.ref);
    const client = new RegistryClient({ insecureRegistries: flags['insecure-registry'] ?? [] });
    const seen = new Set<string>();
    const onProgress = (e: TransferEvent) => {
      const key = `${e.id}:${e.status}`;
      if (flags.quiet || seen.has(key) || e.status === 'uploading' || e.status === 'waiting') return;
      if (e.status === 'done' && (seen.has(`${e.id}:mounted`) || seen.has(`${e.id}:exists`))) return;
      seen.add(key);
      const label =
        { exists: 'Layer already exists', mounted: 'Mounted', done: 'Pushed', retrying: 'Retrying' }[
          e.status as string
        ] ?? e.status;
      process.stderr.write(`${e.id}: ${label}\n`);
    };
    if (dest.digest) {
      // NAME@DIGEST: push exactly that manifest (no re-compression, the digest must hold).
      const r = await pushImage(client, store, descriptor, dest, { onProgress });
      await noteRepoDigest(store, formatReference(dest), descriptor, r.digest);
      process.stdout.write(`${formatReference({ ...dest, digest: r.digest })}\n`);
      return;
    }
    // Through the registry exporter: layers kept uncompressed locally are gzip-compressed on the way out.
    const r = await exportImage(store, descriptor, parseOutput('type=registry'), {
      tags: [formatReference(dest)],
      registry: client,
      onProgress,
    });
    // The local tag of that name (docker pushes only a local tag) now has this digest in its registry.
    await noteRepoDigest(store, formatReference(dest), descriptor, r.digest);
    if (!flags.quiet) process.stderr.write(`${dest.tag ?? ''}: digest: ${r.digest}\n`);
    process.stdout.write(`${formatReference({ ...dest, digest: r.digest })}\n`);
  }
}
