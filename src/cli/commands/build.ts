import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { TsbuildError } from '../../errors.js';
import { BaseCommand } from '../base-command.js';
import { limitFlags, parseLimits } from '../limits.js';
import { renderError } from '../render-error.js';

function kv(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) {
      // `--build-arg NAME` takes the value from the environment, as docker does.
      if (what === 'build-arg' && i < 0 && process.env[item] !== undefined) {
        out[item] = process.env[item] as string;
        continue;
      }
      if (what === 'build-arg' && i < 0) continue;
      throw new TsbuildError('USAGE', `invalid --${what} "${item}": expected KEY=VALUE`);
    }
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

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
    label: Flags.string({
      description: 'set an image label (KEY=VALUE)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    platform: Flags.string({ description: 'target platform (os/arch[/variant])' }),
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
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Build);
    this.debugMode = flags.debug;
    const { build } = await import('../../build.js');
    const { createRenderer } = await import('../../progress/index.js');
    const mode = flags.quiet ? 'quiet' : (flags.progress as 'auto');
    const progress = createRenderer(mode);
    const ctl = new AbortController();
    const onSig = () => ctl.abort(new TsbuildError('CANCELED', 'build canceled'));
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    try {
      const result = await build({
        root: this.rootDir(flags.root),
        context: args.context,
        ...(flags.file ? { file: flags.file } : {}),
        ...(flags.tag ? { tags: flags.tag } : {}),
        ...(flags.target ? { target: flags.target } : {}),
        buildArgs: kv(flags['build-arg'], 'build-arg'),
        labels: kv(flags.label, 'label'),
        ...(flags.platform ? { platform: flags.platform } : {}),
        noCache: flags['no-cache'],
        pull: flags.pull,
        ...(flags['no-cache-filter']
          ? { noCacheFilter: flags['no-cache-filter'].flatMap((s) => s.split(',')) }
          : {}),
        ...(flags.output ? { outputs: flags.output } : {}),
        push: flags.push,
        ...(flags.iidfile ? { iidfile: flags.iidfile } : {}),
        ...(flags['metadata-file'] ? { metadataFile: flags['metadata-file'] } : {}),
        ...(flags.network ? { network: flags.network as 'default' } : {}),
        ...(flags.secret ? { secrets: flags.secret } : {}),
        ...(flags.ssh ? { ssh: flags.ssh } : {}),
        ...(flags['max-parallelism'] ? { maxParallelism: flags['max-parallelism'] } : {}),
        ...limitOptions(flags),
        progress,
        signal: ctl.signal,
      });
      progress.close?.();
      if (mode === 'quiet') process.stdout.write(`${result.configDigest}\n`);
    } catch (e) {
      progress.close?.();
      let source: string | undefined;
      try {
        source =
          flags.file && flags.file !== '-'
            ? readFileSync(resolve(flags.file), 'utf8')
            : readFileSync(join(args.context, 'Dockerfile'), 'utf8');
      } catch {
        source = undefined;
      }
      process.stderr.write(
        `${renderError(e, { debug: this.debugMode, ...(source ? { source } : {}), file: flags.file ?? 'Dockerfile' })}\n`,
      );
      // Rendered here (with the Dockerfile excerpt); exit code 1 without oclif's exit error.
      process.exitCode = 1;
    } finally {
      process.removeListener('SIGINT', onSig);
      process.removeListener('SIGTERM', onSig);
    }
  }
}

function limitOptions(
  flags: Parameters<typeof parseLimits>[0] & { 'insecure-registry'?: string[] | undefined },
) {
  const limits = parseLimits(flags);
  const insecure = flags['insecure-registry'];
  return { ...(limits ? { limits } : {}), ...(insecure?.length ? { insecureRegistries: insecure } : {}) };
}
