import { Args, Flags } from '@oclif/core';
import { isUntaggedRecord, removeImage } from '../../exporter/index.js';
import { familiarReference, parseReference } from '../../oci/index.js';
import { openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';

export default class Rm extends BaseCommand {
  static override description =
    'Remove image tags from the local store (content is freed by `tsbuild prune`)';
  static override aliases = ['rmi'];
  static override strict = false;
  static override examples = ['<%= config.bin %> rm app:dev', '<%= config.bin %> rm 3f2a9c1b'];
  static override flags = {
    force: Flags.boolean({
      char: 'f',
      description: 'by id or digest: remove every tag of the image, even in several repositories',
    }),
    'no-prune': Flags.boolean({
      description: 'accepted for docker rmi; content is only ever freed by prune',
    }),
  };
  static override args = {
    image: Args.string({ description: 'image (name[:tag], digest or id); several allowed', required: true }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Rm);
    const store = await openStore(this.rootDir(flags.root));
    for (const q of argv as string[]) {
      for (const t of await removeImage(store, q, { force: flags.force }))
        process.stdout.write(
          isUntaggedRecord(t) ? `Deleted: ${t}\n` : `Untagged: ${familiarReference(parseReference(t))}\n`,
        );
    }
  }
}
