import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import type { BuildOptions } from '../../build.js';
import { DockerfileSyntaxError, TsbuildError } from '../../errors.js';
import type { ProgressMode } from '../../progress/index.js';
import type { WatchEvent } from '../../watch/index.js';
import { BaseCommand } from '../base-command.js';
import { keyValueFlags } from '../build-action.js';
import { buildExtras, type ExtraFlagValues } from '../build-extras.js';
import { limitFlags } from '../limits.js';
import { renderError } from '../render-error.js';
import { runFlags } from '../run-flags.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/**
 * Ctrl-C, SIGTERM and SIGHUP stop watching (exit 128+n once everything is down); a second one exits
 * at once (the runner's exit handler still kills and unmounts what runs).
 */
function stopOnSignals() {
  const controller = new AbortController();
  let exitCode = 0;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    exitCode = 128 + (SIGNAL_NUMBERS[sig] ?? 15);
    if (signals > 1) process.exit(exitCode);
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return {
    signal: controller.signal,
    exitCode: () => exitCode,
    // After a signal the handlers stay: the runner's safety net re-raises the signal once its runs
    // are gone when it is the only listener, which would turn our exit code into a signal death.
    release: () => {
      if (signals === 0) for (const s of STOP_SIGNALS) process.off(s, onSignal);
    },
  };
}

export default class Watch extends BaseCommand {
  static override description =
    'Build, then rebuild on every change of the context; optionally run the image and restart it';
  static override examples = [
    '<%= config.bin %> watch -t app .',
    "<%= config.bin %> watch -t app --exec 'echo built $TSBUILD_IMAGE' .",
    '<%= config.bin %> watch -t web --run . -- httpd -f -p 8080 -h /www',
  ];
  static override strict = false;
  static override args = { context: Args.string({ description: 'build context directory', default: '.' }) };
  static override flags = {
    tag: Flags.string({
      char: 't',
      description: 'name and tag the image',
      multiple: true,
      multipleNonGreedy: true,
    }),
    file: Flags.string({ char: 'f', description: 'the Dockerfile (default: CONTEXT/Dockerfile)' }),
    target: Flags.string({ description: 'the stage to build' }),
    'build-context': Flags.string({
      description:
        'additional build context (NAME=DIR, also watched, NAME=docker-image://REF, NAME=oci-layout://PATH[:TAG][@DIGEST], NAME=GIT_URL or NAME=HTTP_URL)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'build-arg': Flags.string({
      description: 'ARG value (KEY=VALUE)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    label: Flags.string({ description: 'image label (KEY=VALUE)', multiple: true, multipleNonGreedy: true }),
    platform: Flags.string({
      description:
        'target platform (os/arch[/variant]); several, comma-separated, make a multi-platform index',
    }),
    'no-cache': Flags.boolean({
      description: 'do not use the cache for the initial build (rebuilds use it)',
      default: false,
    }),
    'no-cache-filter': Flags.string({
      description: 'stages not to take from the cache',
      multiple: true,
      multipleNonGreedy: true,
    }),
    output: Flags.string({
      char: 'o',
      description: 'output after each good build (type=…,dest=…)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    push: Flags.boolean({ description: 'push each good build to the registry of its tags', default: false }),
    iidfile: Flags.string({ description: 'write the image id here after each build' }),
    'metadata-file': Flags.string({ description: 'write build metadata (JSON) here after each build' }),
    network: Flags.string({ description: 'network of RUN steps', options: ['default', 'none', 'host'] }),
    secret: Flags.string({
      description: 'secret for RUN --mount=type=secret (id=x,src=path|env=VAR)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    ssh: Flags.string({
      description: 'ssh agent socket or keys for RUN --mount=type=ssh',
      multiple: true,
      multipleNonGreedy: true,
    }),
    progress: Flags.string({
      description:
        'build output: auto, tty, plain, json, quiet (default: auto for the first build, then one line per rebuild)',
      options: ['auto', 'tty', 'plain', 'json', 'quiet'],
    }),
    quiet: Flags.boolean({
      char: 'q',
      description: 'no build progress, only the summary lines',
      default: false,
    }),
    'max-parallelism': Flags.integer({ description: 'steps run at once (default: number of cores)', min: 1 }),
    ...limitFlags,
    ...runFlags,
    debounce: Flags.integer({
      description: 'quiet period after a change before rebuilding (ms)',
      default: 100,
      min: 0,
    }),
    exec: Flags.string({
      description: 'shell command after each good build (env TSBUILD_IMAGE, TSBUILD_DIGEST)',
    }),
    run: Flags.boolean({
      description: 'run the image (and restart it on each good build); a command may follow --',
      default: false,
    }),
    init: Flags.boolean({
      description: 'with --run: an init as PID 1 forwards the stop signal to the app (docker run --init)',
      default: true,
      allowNo: true,
    }),
    'stop-timeout': Flags.integer({
      description: 'seconds the app has to stop before SIGKILL',
      default: 10,
      min: 0,
    }),
  };

  /** Loaded with the watch module in run(): start-up of other commands stays lazy. */
  private dockerfilePath: typeof import('../../watch/index.js').dockerfilePath | undefined;

  async run(): Promise<void> {
    const raw = this.argv;
    const dash = raw.indexOf('--');
    const cmd = dash >= 0 ? raw.slice(dash + 1) : [];
    const { flags, args, argv } = await this.parse(Watch, dash >= 0 ? raw.slice(0, dash) : raw);
    this.debugMode = flags.debug;
    if (argv.length > 1)
      throw new TsbuildError('USAGE', `unexpected arguments: ${argv.slice(1).join(' ')}`, {
        hint: 'a command for --run goes after --',
      });
    if (cmd.length > 0 && !flags.run) throw new TsbuildError('USAGE', 'a command after -- needs --run');
    if (flags.run && flags.platform?.includes(','))
      throw new TsbuildError('USAGE', '--run runs one image: give one --platform', {
        hint: 'several --platform values make an index; run watch without --run, or with one platform',
      });
    const build = this.buildOptions(flags, args.context);
    if (build.file === '-') {
      // Read once: the rebuilds reuse the text (a Dockerfile from stdin cannot be watched).
      build.dockerfileText = readFileSync(0, 'utf8');
      delete build.file;
    }
    const { watch, formatEvent, eventJson, dockerfilePath } = await import('../../watch/index.js');
    this.dockerfilePath = dockerfilePath;
    const { createRenderer } = await import('../../progress/index.js');
    const progressMode = flags.quiet ? 'quiet' : (flags.progress as ProgressMode | undefined);
    const stop = stopOnSignals();
    const appName = flags.tag?.[0] ?? 'app';
    const onEvent = (e: WatchEvent) => {
      // JSON lines on stdout for tools; the build's own progress events go to stderr.
      if (progressMode === 'json') {
        if (e.type !== 'change') process.stdout.write(`${eventJson(e)}\n`);
        return;
      }
      if (e.type === 'build-failed') return this.printError(e.error, build, e.n);
      if (e.type === 'app-error' || e.type === 'watcher-error') return this.printError(e.error, build);
      const line = formatEvent(e, appName);
      if (line) (line.stream === 'stdout' ? process.stdout : process.stderr).write(`${line.text}\n`);
    };
    try {
      await watch({
        build,
        debounceMs: flags.debounce,
        ...(flags.exec ? { exec: flags.exec } : {}),
        ...(flags.run
          ? { run: { args: cmd, stopTimeoutMs: flags['stop-timeout'] * 1000, init: flags.init } }
          : {}),
        progress: (n) => createRenderer(progressMode ?? (n === 0 ? 'auto' : 'quiet')),
        onEvent,
        signal: stop.signal,
      });
    } finally {
      stop.release();
    }
    // Not this.exit(): oclif would report its ExitError as a failure.
    if (stop.exitCode() !== 0) process.exitCode = stop.exitCode();
  }

  private buildOptions(
    f: Awaited<ReturnType<Watch['parse']>>['flags'] & Record<string, unknown>,
    context: string,
  ): Omit<BuildOptions, 'signal' | 'progress'> {
    const buildArgs = keyValueFlags(f['build-arg'] as string[] | undefined, 'build-arg');
    const labels = keyValueFlags(f.label as string[] | undefined, 'label');
    const contexts = keyValueFlags(f['build-context'] as string[] | undefined, 'build-context');
    const opt = <K extends keyof BuildOptions>(k: K, v: BuildOptions[K] | undefined) =>
      v === undefined || (Array.isArray(v) && v.length === 0) ? {} : { [k]: v };
    return {
      root: this.rootDir(f.root as string | undefined),
      context,
      ...opt('file', f.file as string | undefined),
      ...opt('tags', f.tag as string[] | undefined),
      ...opt('target', f.target as string | undefined),
      ...(Object.keys(buildArgs).length ? { buildArgs } : {}),
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(Object.keys(contexts).length ? { buildContexts: contexts } : {}),
      ...opt('platform', f.platform as string | undefined),
      ...(f['no-cache'] ? { noCache: true } : {}),
      ...opt(
        'noCacheFilter',
        (f['no-cache-filter'] as string[] | undefined)?.flatMap((x) => x.split(',')),
      ),
      ...opt('maxParallelism', f['max-parallelism'] as number | undefined),
      ...opt('outputs', f.output as string[] | undefined),
      ...(f.push ? { push: true } : {}),
      ...opt('iidfile', f.iidfile as string | undefined),
      ...opt('metadataFile', f['metadata-file'] as string | undefined),
      ...opt('network', f.network as BuildOptions['network']),
      ...opt('secrets', f.secret as string[] | undefined),
      ...opt('ssh', f.ssh as string[] | undefined),
      ...buildExtras(f as ExtraFlagValues),
    };
  }

  /** A failed build: the error with the Dockerfile lines around it, then watching goes on. */
  private printError(err: unknown, build: Omit<BuildOptions, 'signal' | 'progress'>, n?: number): void {
    let source = build.dockerfileText;
    const path =
      build.dockerfileText === undefined ? this.dockerfilePath?.(build, resolve(build.context)) : undefined;
    const file = build.file ?? (path ? basename(path) : 'Dockerfile');
    const located = typeof (err as { line?: unknown } | null)?.line === 'number';
    if ((err instanceof DockerfileSyntaxError || located) && path) {
      try {
        source = readFileSync(path, 'utf8');
      } catch {
        // the excerpt is a nicety; the message and line are in the error itself
      }
    }
    const head = n === undefined ? '' : `#${n} build failed; still watching (the last good image stays)\n`;
    process.stderr.write(
      `${head}${renderError(err, { debug: this.debugMode, file, ...(source ? { source } : {}) })}\n`,
    );
  }
}
