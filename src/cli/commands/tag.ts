import { Args } from '@oclif/core';
import { findImage, tagImage } from '../../exporter/index.js';
import { openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';

export default class Tag extends BaseCommand {
  static override description = 'Give a local image another name';
  static override examples = ['<%= config.bin %> tag app:dev localhost:5000/app:1'];
  static override args = {
    source: Args.string({ description: 'local image (name[:tag], digest or id)', required: true }),
    target: Args.string({ description: 'new name[:tag]', required: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Tag);
    const store = await openStore(this.rootDir(flags.root));
    const { descriptor } = await findImage(store, args.source);
    await tagImage(store, args.target, descriptor, { keepReplaced: true });
  }
}
