import { Args, Flags } from '@oclif/core';
import { TsbuildError } from '../../errors.js';
import { login, RegistryClient } from '../../registry/index.js';
import { BaseCommand } from '../base-command.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export default class Login extends BaseCommand {
  static override description = 'Log in to a registry (writes $DOCKER_CONFIG/config.json, like docker login)';
  static override examples = [
    'echo "$TOKEN" | <%= config.bin %> login -u me --password-stdin registry.example.com',
  ];
  static override args = {
    server: Args.string({ description: 'registry host (default: docker.io)', default: 'docker.io' }),
  };
  static override flags = {
    username: Flags.string({ char: 'u', description: 'user name' }),
    password: Flags.string({ char: 'p', description: 'password or token (prefer --password-stdin)' }),
    'password-stdin': Flags.boolean({ description: 'read the password from stdin', default: false }),
    'insecure-registry': Flags.string({
      description: 'registry to reach over plain HTTP',
      multiple: true,
      multipleNonGreedy: true,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Login);
    if (!flags.username)
      throw new TsbuildError('USAGE', 'login needs --username', {
        hint: 'tsbuild login -u USER --password-stdin SERVER',
      });
    if (flags.password && flags['password-stdin'])
      throw new TsbuildError('USAGE', '--password and --password-stdin are mutually exclusive');
    const password = flags['password-stdin'] ? await readStdin() : flags.password;
    if (!password)
      throw new TsbuildError('USAGE', 'login needs a password', {
        hint: 'pass --password-stdin and pipe it in',
      });
    const server = args.server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const registry = server === 'index.docker.io' ? 'docker.io' : server;
    await login(new RegistryClient({ insecureRegistries: flags['insecure-registry'] ?? [] }), registry, {
      username: flags.username,
      password,
    });
    process.stdout.write('Login Succeeded\n');
  }
}
