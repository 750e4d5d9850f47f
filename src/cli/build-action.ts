import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BuildInputs, BuildOptions } from '../build.js';
import { TsbuildError } from '../errors.js';
import { isRemoteContext } from '../solver/frontend/git-ref.js';
import { type NoopRequest, recordNoop, stampFiles, stepRecorder } from './noop-replay.js';
import { remoteContext } from './remote-context.js';
import { renderError } from './render-error.js';
import { type StdinContext, stdinContext } from './stdin-context.js';

/** `build`'s parsed flags, as oclif's parser (or the start-up fast path, `fast-build.ts`) gives them. */
export interface BuildFlags {
  tag?: string[] | undefined;
  file?: string | undefined;
  target?: string | undefined;
  'build-arg'?: string[] | undefined;
  'build-context'?: string[] | undefined;
  load?: boolean | undefined;
  label?: string[] | undefined;
  platform?: string | undefined;
  'no-cache': boolean;
  pull: boolean;
  'no-cache-filter'?: string[] | undefined;
  output?: string[] | undefined;
  push: boolean;
  iidfile?: string | undefined;
  'metadata-file'?: string | undefined;
  network?: string | undefined;
  allow?: string[] | undefined;
  secret?: string[] | undefined;
  ssh?: string[] | undefined;
  progress: string;
  quiet: boolean;
  'max-parallelism'?: number | undefined;
  debug: boolean;
}

/** `--label`/`--build-arg`/`--build-context` lists: KEY=VALUE; a bare `--build-arg NAME` takes the environment's. */
export function keyValueFlags(
  list: string[] | undefined,
  what: 'build-arg' | 'label' | 'build-context',
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) {
      if (what === 'build-arg' && i < 0 && process.env[item] !== undefined) {
        out[item] = process.env[item] as string;
        continue;
      }
      if (what === 'build-arg' && i < 0) continue;
      throw new TsbuildError('USAGE', `invalid --${what} "${item}": expected KEY=VALUE`);
    }
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  // buildx (>= 0.10) hands the client's SOURCE_DATE_EPOCH to the build as that build arg, unless given.
  const sde = process.env.SOURCE_DATE_EPOCH;
  if (what === 'build-arg' && sde !== undefined && !Object.hasOwn(out, 'SOURCE_DATE_EPOCH'))
    out.SOURCE_DATE_EPOCH = sde;
  return out;
}

function options(root: string, context: string, flags: BuildFlags): BuildOptions {
  return {
    root,
    context,
    ...(flags.file ? { file: flags.file } : {}),
    ...(flags.tag ? { tags: flags.tag } : {}),
    ...(flags.target ? { target: flags.target } : {}),
    buildArgs: keyValueFlags(flags['build-arg'], 'build-arg'),
    labels: keyValueFlags(flags.label, 'label'),
    ...(flags['build-context']?.length
      ? { buildContexts: keyValueFlags(flags['build-context'], 'build-context') }
      : {}),
    ...(flags.platform ? { platform: flags.platform } : {}),
    noCache: flags['no-cache'],
    pull: flags.pull,
    ...(flags['no-cache-filter']
      ? { noCacheFilter: flags['no-cache-filter'].flatMap((s) => s.split(',')) }
      : {}),
    ...(flags.output ? { outputs: flags.output } : {}),
    push: flags.push,
    ...(flags.load ? { load: true } : {}),
    ...(flags.iidfile ? { iidfile: flags.iidfile } : {}),
    ...(flags['metadata-file'] ? { metadataFile: flags['metadata-file'] } : {}),
    ...(flags.network ? { network: flags.network as 'default' } : {}),
    ...(flags.allow ? { allow: flags.allow } : {}),
    ...(flags.secret ? { secrets: flags.secret } : {}),
    ...(flags.ssh ? { ssh: flags.ssh } : {}),
    ...(flags['max-parallelism'] ? { maxParallelism: flags['max-parallelism'] } : {}),
  };
}

/**
 * The body of `tsbuild build` once its flags are parsed. Build errors are rendered here, with the
 * Dockerfile lines around them, and set exit code 1. `extra` adds options from flags this module
 * does not know (resource limits); it runs inside the error handling, so its usage errors render too.
 */
export async function buildAction(
  root: string,
  context: string,
  flags: BuildFlags,
  extra: () => Partial<BuildOptions> = () => ({}),
  noop?: NoopRequest,
): Promise<void> {
  const { build } = await import('../build.js');
  const { createRenderer } = await import('../progress/index.js');
  const mode = flags.quiet ? 'quiet' : (flags.progress as 'auto');
  const recorder = noop ? stepRecorder(createRenderer(mode)) : undefined;
  const progress = recorder ?? createRenderer(mode);
  // Before the build reads them: a change racing the build must not match the record.
  const stamped = noop ? stampFiles(noop) : undefined;
  let inputs: BuildInputs | undefined;
  const ctl = new AbortController();
  const onSig = () => ctl.abort(new TsbuildError('CANCELED', 'build canceled'));
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  let stdin: StdinContext | undefined;
  try {
    stdin = await spooledContext(context, flags, ctl.signal);
    const result = await build({
      ...options(root, stdin?.dir ?? context, flags),
      ...extra(),
      ...(stdin?.file ? { file: stdin.file } : {}),
      ...(stdin?.keepOwners ? { contextKeepsOwners: true } : {}),
      ...(stdin?.dockerfileText !== undefined ? { dockerfileText: stdin.dockerfileText } : {}),
      progress,
      signal: ctl.signal,
      ...(noop ? { observe: (i: BuildInputs) => (inputs = i) } : {}),
    });
    progress.close?.();
    if (mode === 'quiet') process.stdout.write(`${result.configDigest}\n`);
    // The store is closed by now: its dirs are stamped as this build left them.
    if (noop && stamped && recorder && inputs) {
      const { digest, configDigest, tags, size } = result;
      recordNoop(
        noop,
        stamped,
        inputs,
        { digest, configDigest, tags, size },
        recorder.steps,
        recorder.warnings,
      );
    }
  } catch (e) {
    progress.close?.();
    renderBuildError(e, flags, context, stdin);
  } finally {
    await stdin?.cleanup();
    process.removeListener('SIGINT', onSig);
    process.removeListener('SIGTERM', onSig);
  }
}

/** A context of `-` (stdin) or a URL, spooled to a temp dir; a local directory is read in place. */
function spooledContext(
  context: string,
  flags: BuildFlags,
  signal: AbortSignal,
): Promise<StdinContext | undefined> {
  if (context === '-') return stdinContext(flags.file);
  if (isRemoteContext(context)) return remoteContext(context, flags.file, signal, flags.ssh);
  return Promise.resolve(undefined);
}

/** The error on stderr with the Dockerfile lines around it; exit code 1 without oclif's exit error. */
function renderBuildError(
  e: unknown,
  flags: BuildFlags,
  context: string,
  stdin: StdinContext | undefined,
): void {
  let source: string | undefined;
  try {
    source =
      stdin?.dockerfileText ??
      (flags.file && flags.file !== '-'
        ? readFileSync(stdin?.file ?? resolve(flags.file), 'utf8')
        : readFileSync(join(stdin?.dir ?? context, 'Dockerfile'), 'utf8'));
  } catch {
    source = undefined;
  }
  process.stderr.write(
    `${renderError(e, { debug: flags.debug, ...(source ? { source } : {}), file: flags.file ?? 'Dockerfile' })}\n`,
  );
  process.exitCode = 1;
}
