import { defaultRoot } from '../paths.js';
import type { BuildFlags } from './build-action.js';
import { buildExtras, type ExtraFlagValues } from './build-extras.js';
import { noopRequest } from './noop-replay.js';

/**
 * Start-up fast path of `tsbuild build`: loading oclif (~0.1 s of a ~0.35 s no-op rebuild) is
 * skipped when the command line is plainly well formed. This parser accepts only the simple forms
 * (`--name value`, `--name=value`, `-t value`, boolean `--name`/`-q`, one context argument) of the
 * flags in FAST_FLAGS and gives up (undefined) on anything else: unknown or new flags, `--`, a value
 * that looks like a flag, a repeated single flag, a bad option value. The caller then runs oclif,
 * whose parser and error messages stay the only source of truth. test/cli/fast-build.test.ts checks
 * that FAST_FLAGS matches `Build.flags` and that both parsers agree on what this one accepts.
 */
export interface FastFlag {
  type: 'string' | 'boolean' | 'integer';
  char?: string;
  multiple?: boolean;
  options?: readonly string[];
  min?: number;
  max?: number;
  default?: boolean | string;
  /** Known for its default only: given, it sends the command line to oclif (for its warning). */
  slow?: boolean;
}

export const FAST_FLAGS: Record<string, FastFlag> = {
  tag: { type: 'string', char: 't', multiple: true },
  file: { type: 'string', char: 'f' },
  target: { type: 'string' },
  'build-arg': { type: 'string', multiple: true },
  label: { type: 'string', multiple: true },
  platform: { type: 'string' },
  'no-cache': { type: 'boolean', default: false },
  pull: { type: 'boolean', default: false },
  'no-cache-filter': { type: 'string', multiple: true },
  output: { type: 'string', char: 'o', multiple: true },
  push: { type: 'boolean', default: false },
  load: { type: 'boolean', default: false },
  iidfile: { type: 'string' },
  'metadata-file': { type: 'string' },
  network: { type: 'string', options: ['default', 'none', 'host'] },
  allow: { type: 'string', multiple: true, options: ['security.insecure', 'network.host'] },
  secret: { type: 'string', multiple: true },
  ssh: { type: 'string', multiple: true },
  progress: { type: 'string', options: ['auto', 'tty', 'plain', 'json', 'quiet'], default: 'auto' },
  quiet: { type: 'boolean', char: 'q', default: false },
  'max-parallelism': { type: 'integer', min: 1 },
  'build-context': { type: 'string', multiple: true },
  // the flags build-extras.ts reads (limits, registries, RUN settings, caches, annotations)
  memory: { type: 'string', char: 'm' },
  'cpu-quota': { type: 'integer', min: 1000 },
  'cpu-period': { type: 'integer', min: 1000, max: 1_000_000 },
  cpus: { type: 'string' },
  'pids-limit': { type: 'integer', min: 1 },
  'insecure-registry': { type: 'string', multiple: true },
  'add-host': { type: 'string', multiple: true },
  ulimit: { type: 'string', multiple: true },
  'shm-size': { type: 'string' },
  'cache-from': { type: 'string', multiple: true },
  'cache-to': { type: 'string', multiple: true },
  annotation: { type: 'string', multiple: true },
  provenance: { type: 'string' },
  sbom: { type: 'string' },
  root: { type: 'string' },
  debug: { type: 'boolean', default: false },
  // docker build's --rm / --force-rm (ignored); `--no-rm` goes through oclif.
  rm: { type: 'boolean', default: true },
  'force-rm': { type: 'boolean', default: false },
  // the classic builder's boolean flags (docker-compat.ts: ignored, with a warning)
  compress: { type: 'boolean', default: false, slow: true },
  squash: { type: 'boolean', default: false, slow: true },
  'disable-content-trust': { type: 'boolean', default: true, slow: true },
};

export interface FastParse {
  context: string;
  flags: BuildFlags & ExtraFlagValues & { root?: string };
}

/** `build`'s arguments (after the word `build`), or undefined when oclif must parse them. */
export function parseBuildArgv(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): FastParse | undefined {
  const byChar = new Map(
    Object.entries(FAST_FLAGS).flatMap(([n, f]) => (f.char ? [[f.char, n] as const] : [])),
  );
  const values = new Map<string, unknown>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] as string;
    if (!tok.startsWith('-') || tok === '-') {
      positionals.push(tok);
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=');
      name = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
      if (eq >= 0) inline = tok.slice(eq + 1);
    } else if (tok.length === 2) name = byChar.get(tok[1] as string);
    const spec = name !== undefined ? FAST_FLAGS[name] : undefined;
    if (!spec || name === undefined || spec.slow) return undefined;
    let value: unknown = true;
    if (spec.type === 'boolean') {
      if (inline !== undefined) return undefined;
    } else {
      const raw = inline ?? argv[++i];
      if (raw === undefined || raw === '' || raw.startsWith('-')) return undefined;
      if (spec.options && !spec.options.includes(raw)) return undefined;
      if (spec.type === 'integer') {
        const n = Number(raw);
        if (!/^[1-9]\d{0,8}$/.test(raw) || n < (spec.min ?? 0) || n > (spec.max ?? n)) return undefined;
        value = n;
      } else value = raw;
    }
    if (spec.multiple) values.set(name, [...((values.get(name) as unknown[]) ?? []), value]);
    else if (values.has(name)) return undefined;
    else values.set(name, value);
  }
  if (positionals.length > 1) return undefined;
  // oclif reads --root from TSBUILD_ROOT when the flag is absent; an empty value is its business.
  if (!values.has('root') && env.TSBUILD_ROOT !== undefined) {
    if (env.TSBUILD_ROOT === '') return undefined;
    values.set('root', env.TSBUILD_ROOT);
  }
  for (const [n, f] of Object.entries(FAST_FLAGS))
    if (!values.has(n) && f.default !== undefined) values.set(n, f.default);
  return {
    context: positionals[0] ?? '.',
    flags: Object.fromEntries(values) as unknown as FastParse['flags'],
  };
}

/** Runs `build` without oclif when the arguments allow it; false when the caller must use oclif. */
export async function runFastBuild(argv: readonly string[]): Promise<boolean> {
  const parsed = parseBuildArgv(argv);
  if (!parsed) return false;
  const { buildAction } = await import('./build-action.js');
  await buildAction(
    parsed.flags.root ?? defaultRoot(),
    parsed.context,
    parsed.flags,
    () => buildExtras(parsed.flags),
    noopRequest(parsed),
  );
  return true;
}
