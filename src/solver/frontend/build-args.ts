import { TsbuildError } from '../../errors.js';
import { formatPlatform } from '../../oci/index.js';
import { expandWord, type StagesResult } from '../../parser/index.js';
import type { ConvertOptions } from './convert.js';
import type { StageState } from './stage-state.js';

// Build args at the graph's level: the global (meta) ARGs FROM lines see, and the warning for
// --build-args nothing declares.

/** Build args BuildKit accepts without an ARG: proxies and its own switches. */
const PREDEFINED = new Set([
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'FTP_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'ftp_proxy',
  'no_proxy',
  'all_proxy',
  'BUILDKIT_INLINE_CACHE',
  'BUILDKIT_SANDBOX_HOSTNAME',
  'BUILDKIT_DOCKERFILE_CHECK',
  'SOURCE_DATE_EPOCH',
]);

/** Meta ARGs (expanded in order), overridden by --build-arg, plus BuildKit's predefined platform args. */
export function globalArgs(
  parsed: StagesResult,
  opts: ConvertOptions,
  buildArgs: Record<string, string>,
): Map<string, string> {
  const g = new Map<string, string>();
  const t = opts.targetPlatform;
  const b = opts.buildPlatform;
  g.set('BUILDPLATFORM', formatPlatform(b));
  g.set('BUILDOS', b.os);
  g.set('BUILDARCH', b.architecture);
  g.set('BUILDVARIANT', b.variant ?? '');
  g.set('TARGETPLATFORM', formatPlatform(t));
  g.set('TARGETOS', t.os);
  g.set('TARGETARCH', t.architecture);
  g.set('TARGETVARIANT', t.variant ?? '');
  for (const a of parsed.metaArgs) {
    for (const d of a.args) {
      if (Object.hasOwn(buildArgs, d.name)) g.set(d.name, buildArgs[d.name] as string);
      else if (d.default !== undefined)
        g.set(
          d.name,
          expandWord(d.default, (n) => g.get(n), { escapeToken: parsed.escapeToken }),
        );
    }
  }
  return g;
}

/** BuildKit's warning text for build args no reachable ARG declares (proxies and its own aside). */
export function unusedBuildArgs(
  parsed: StagesResult,
  reachable: Set<StageState>,
  buildArgs: Record<string, string>,
): string | undefined {
  const declared = new Set(parsed.metaArgs.flatMap((a) => a.args.map((d) => d.name)));
  for (const st of reachable)
    for (const i of st.stage.instructions) if (i.kind === 'ARG') for (const d of i.args) declared.add(d.name);
  const unused = Object.keys(buildArgs)
    .filter((k) => !declared.has(k) && !PREDEFINED.has(k))
    .sort();
  return unused.length > 0 ? `One or more build-args [${unused.join(' ')}] were not consumed` : undefined;
}

/** Go's time range for JSON (years 0001-9999): BuildKit cannot write a created time outside it. */
const EPOCH_MIN = -62135596800;
const EPOCH_MAX = 253402300799;

/**
 * BuildKit's SOURCE_DATE_EPOCH: a --build-arg, else a global ARG's default (getBuildArgValue), in
 * whole seconds (strconv.ParseInt); empty is unset. It dates the image, not the steps: no cache key
 * holds it, so a rebuild with another epoch reuses every step.
 */
export function sourceDateEpoch(
  buildArgs: Record<string, string>,
  globals: Map<string, string>,
): number | undefined {
  const v = Object.hasOwn(buildArgs, 'SOURCE_DATE_EPOCH')
    ? buildArgs.SOURCE_DATE_EPOCH
    : globals.get('SOURCE_DATE_EPOCH');
  if (v === undefined || v === '') return undefined;
  const n = /^[+-]?\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= EPOCH_MIN && n <= EPOCH_MAX))
    throw new TsbuildError('INVALID_SOURCE_DATE_EPOCH', `invalid SOURCE_DATE_EPOCH "${v}"`, {
      hint: 'give whole seconds since 1970-01-01 UTC, e.g. --build-arg SOURCE_DATE_EPOCH=$(git log -1 --pretty=%ct)',
    });
  return n;
}
