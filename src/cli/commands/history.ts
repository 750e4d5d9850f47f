import { Args, Flags } from '@oclif/core';
import { findImage, imageHistory, loadImage } from '../../exporter/index.js';
import { hostPlatform, parsePlatform } from '../../oci/index.js';
import { openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';
import { formatHistory } from '../history-format.js';

export default class History extends BaseCommand {
  static override description = 'Show the history of a local image, as docker history does';
  static override examples = [
    '<%= config.bin %> history app:dev',
    "<%= config.bin %> history --no-trunc --format '{{.Size}}\\t{{.CreatedBy}}' app:dev",
  ];
  static override args = {
    ref: Args.string({ description: 'image (name[:tag], digest or id)', required: true }),
  };
  static override flags = {
    human: Flags.boolean({
      char: 'H',
      description: 'sizes and dates in human-readable form (--human=false: bytes and RFC 3339)',
      default: true,
      allowNo: true,
    }),
    'no-trunc': Flags.boolean({ description: 'do not truncate ids and commands', default: false }),
    quiet: Flags.boolean({ char: 'q', description: 'only image ids', default: false }),
    format: Flags.string({
      description:
        "as docker's: 'table', 'json', or a template of {{.ID}} {{.CreatedSince}} {{.CreatedAt}} {{.CreatedBy}} {{.Size}} {{.Comment}}",
    }),
    platform: Flags.string({ description: 'platform to show from a multi-platform image' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(History);
    const store = await openStore(this.rootDir(flags.root));
    const { descriptor } = await findImage(store, args.ref);
    const img = await loadImage(
      store,
      descriptor,
      flags.platform ? parsePlatform(flags.platform) : hostPlatform(),
    );
    const items = await imageHistory(store, img);
    const lines = formatHistory(items, {
      format: flags.format,
      quiet: flags.quiet,
      human: flags.human,
      trunc: !flags['no-trunc'],
    });
    for (const line of lines) process.stdout.write(`${line}\n`);
  }
}
