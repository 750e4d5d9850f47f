import { Args } from '@oclif/core';
import { removeCredentials } from '../../registry/index.js';
import { BaseCommand } from '../base-command.js';

export default class Logout extends BaseCommand {
  static override description =
    'Log out from a registry (removes its credentials from $DOCKER_CONFIG/config.json)';
  static override args = {
    server: Args.string({ description: 'registry host (default: docker.io)', default: 'docker.io' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Logout);
    const server = args.server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const found = await removeCredentials(server === 'index.docker.io' ? 'docker.io' : server);
    process.stdout.write(
      found ? `Removing login credentials for ${server}\n` : `Not logged in to ${server}\n`,
    );
  }
}
