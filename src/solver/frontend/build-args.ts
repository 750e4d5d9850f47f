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
