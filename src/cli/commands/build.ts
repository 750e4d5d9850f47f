import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { buildAction } from '../build-action.js';
import { buildExtras } from '../build-extras.js';
import { limitFlags } from '../limits.js';
import { runFlags } from '../run-flags.js';

export default class Build extends BaseCommand {
  static override description = 'Build an image from a Dockerfile and a context directory';
  static override examples = [
    '<%= config.bin %> -t app .',
    '<%= config.bin %> build -f Containerfile -t app:dev --target build .',
    '<%= config.bin %> build --output type=oci,dest=app.tar .',
  ];
  static override args = { context: Args.string({ description: 'build context directory', default: '.' }) };
  static override flags = {
    tag: Flags.string({
      char: 't',
      description: 'name and tag the image (name:tag)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    file: Flags.string({
      char: 'f',
      description: 'the Dockerfile (default: CONTEXT/Dockerfile; - for stdin)',
    }),
    target: Flags.string({ description: 'build this stage (default: the last)' }),
    'build-arg': Flags.string({
      description: 'set a build-time variable (KEY=VALUE)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'build-context': Flags.string({
      description:
        'additional build context (NAME=DIR, NAME=docker-image://REF, NAME=oci-layout://PATH[:TAG][@DIGEST], NAME=GIT_URL or NAME=HTTP_URL)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    label: Flags.string({
      description: 'set an image label (KEY=VALUE)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    platform: Flags.string({
      description:
        'target platform (os/arch[/variant]); several, comma-separated, make a multi-platform index',
    }),
    'no-cache': Flags.boolean({ description: 'do not use the cache', default: false }),
    pull: Flags.boolean({
      description: 'always pull base images (default: use local copies)',
      default: false,
    }),
    'no-cache-filter': Flags.string({
      description: 'do not use the cache for these stages',
      multiple: true,
      multipleNonGreedy: true,
    }),
    output: Flags.string({
      char: 'o',
      description: 'output: type=image|oci|docker|local|tar|registry,dest=…',
      multiple: true,
      multipleNonGreedy: true,
    }),
    push: Flags.boolean({
      description: 'push the image (shorthand for --output type=image,push=true)',
      default: false,
    }),
    iidfile: Flags.string({ description: 'write the image ID to this file' }),
    'metadata-file': Flags.string({ description: 'write build result metadata (digest, size) to this file' }),
    network: Flags.string({ description: 'network mode for RUN', options: ['default', 'none', 'host'] }),
    allow: Flags.string({
      description: 'grant an entitlement: security.insecure lets RUN --security=insecure run privileged',
      options: ['security.insecure', 'network.host'],
      multiple: true,
      multipleNonGreedy: true,
    }),
    secret: Flags.string({
      description: 'secret for RUN --mount=type=secret (id=x,src=path | id=x,env=VAR)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    ssh: Flags.string({
      description: 'SSH agent socket for RUN --mount=type=ssh (default | id=path)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    progress: Flags.string({
      description: 'progress output',
      options: ['auto', 'tty', 'plain', 'json', 'quiet'],
      default: 'auto',
    }),
    quiet: Flags.boolean({ char: 'q', description: 'print only the image ID', default: false }),
    'max-parallelism': Flags.integer({ description: 'steps run at once (default: number of cores)', min: 1 }),
    ...limitFlags,
    ...runFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Build);
    this.debugMode = flags.debug;
    await buildAction(this.rootDir(flags.root), args.context, flags, () => buildExtras(flags));
  }
}
