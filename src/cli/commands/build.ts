import { Args, Flags } from '@oclif/core';
import { TsbuildError } from '../../errors.js';
import { BaseCommand } from '../base-command.js';

export default class Build extends BaseCommand {
  static override description = 'Build an image from a Dockerfile and a context directory';
  static override examples = [
    '<%= config.bin %> -t app .',
    '<%= config.bin %> build -f Containerfile -t app:dev .',
  ];
  static override args = { context: Args.string({ description: 'build context directory', default: '.' }) };
  static override flags = {
    tag: Flags.string({ char: 't', description: 'name and tag the image', multiple: true }),
    file: Flags.string({ char: 'f', description: 'the Dockerfile (default: CONTEXT/Dockerfile)' }),
  };

  async run(): Promise<void> {
    await this.parse(Build);
    throw new TsbuildError('NOT_IMPLEMENTED', 'build is not implemented yet', {
      hint: 'see README.md for the state of each feature',
    });
  }
}
