import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BuildOptions } from '../build.js';
import { TsbuildError } from '../errors.js';
import { formatPlatform, hostPlatform, type Platform, parsePlatform } from '../oci/index.js';
import type { StagesResult, Warning } from '../parser/index.js';
import type { PullResult } from '../registry/index.js';
import { type ConvertOptions, type ConvertResult, convert } from './frontend/convert.js';
import { isGitSource, parseGitRef } from './frontend/git-ref.js';
import type { NamedContext } from './frontend/named-contexts.js';
import type { GitOp } from './graph.js';
import { formatOciLayoutRef, ociLayoutContext } from './oci-layout-context.js';
import type { imageResolver } from './resolve-image.js';

// The build's graphs: one per target platform (`--platform a,b`), as dockerfile2llb converts them.

/**
 * One graph per platform, converted one after the other (each resolves its own bases); the solver
 * runs them together, and a vertex they share (a $BUILDPLATFORM stage) once.
 */
export async function convertAll(
  parsed: StagesResult,
  o: BuildOptions,
  resolveImage: Resolve,
  dispatchWarnings: Warning[],
): Promise<{ platforms: Platform[]; converted: ConvertResult[] }> {
  const platforms = targetPlatforms(o.platform);
  // Checked and resolved on the disk once, for every platform's graph.
  const named = o.buildContexts ? { namedContexts: namedContexts(o.buildContexts) } : {};
  const converted: ConvertResult[] = [];
  for (const platform of platforms)
    converted.push(
      await convert(parsed, {
        ...convertOptions(o, platform, resolveImage),
        ...named,
        ...(platforms.length > 1 ? { multiPlatform: true } : {}),
        dispatchWarnings,
      }),
    );
  return { platforms, converted };
}

/** `--platform a,b`: each once, in the order given; none: the host's. */
function targetPlatforms(flag: string | undefined): Platform[] {
  if (!flag) return [hostPlatform()];
  const seen = new Map<string, Platform>();
  for (const word of flag.split(',')) {
    if (word.trim() === '') continue;
    const p = parsePlatform(word);
    seen.set(formatPlatform(p), p);
  }
  if (seen.size === 0) return [hostPlatform()];
  return [...seen.values()];
}

function convertOptions(o: BuildOptions, platform: Platform, resolveImage: Resolve): ConvertOptions {
  return {
    ...(o.target ? { target: o.target } : {}),
    buildArgs: o.buildArgs ?? {},
    targetPlatform: platform,
    ...(o.platform ? { explicitPlatform: true } : {}),
    buildPlatform: hostPlatform(),
    ...(o.labels ? { labels: o.labels } : {}),
    ...(o.noCache ? { noCache: true } : {}),
    ...(o.noCacheFilter ? { noCacheFilter: o.noCacheFilter } : {}),
    ...(o.network ? { network: o.network } : {}),
    run: {
      ...(o.addHosts?.length ? { extraHosts: o.addHosts } : {}),
      ...(o.ulimits?.length ? { ulimits: o.ulimits } : {}),
      ...(o.shmSize ? { shmSize: o.shmSize } : {}),
    },
    ...(o.allow ? { allow: o.allow } : {}),
    resolveImage,
  };
}

export type Resolve = ReturnType<typeof imageResolver>;
type Resolved = Awaited<ReturnType<Resolve>>;

/**
 * Base images as the session's first build resolved them (a watch does not ask the registry on each
 * save; `--pull` still does). Only successes are kept, so a failed resolution is retried next build.
 * The pull result goes with it: the FROM op needs it when its snapshot is gone.
 */
export function sessionResolver(
  o: BuildOptions,
  images: Map<string, PullResult>,
  resolveImage: Resolve,
): Resolve {
  const session = o.session;
  if (!session || o.pull) return resolveImage;
  session.images ??= new Map();
  const memo = session.images as Map<string, { resolved: Resolved; pulled?: PullResult }>;
  return async (ref, platform) => {
    const k = `${ref}|${JSON.stringify(platform)}`;
    const hit = memo.get(k);
    if (hit) {
      if (hit.pulled) images.set(hit.resolved.ref, hit.pulled);
      return hit.resolved;
    }
    const resolved = await resolveImage(ref, platform);
    const pulled = images.get(resolved.ref);
    memo.set(k, { resolved, ...(pulled ? { pulled } : {}) });
    return resolved;
  };
}

/**
 * `--build-context` values as buildx reads them: `docker-image://REF`, `oci-layout://PATH[:TAG][@DIGEST]`
 * (an image ref the resolver reads from the layout), or a local directory.
 */
export function namedContexts(raw: Record<string, string>): Record<string, NamedContext> {
  const out: Record<string, NamedContext> = {};
  for (const [name, value] of Object.entries(raw)) {
    const bad = (why: string) =>
      new TsbuildError('INVALID_BUILD_CONTEXT', `invalid --build-context ${name}=${value}: ${why}`, {
        hint: 'use NAME=docker-image://REF, NAME=oci-layout://PATH[:TAG][@DIGEST], NAME=GIT_URL, NAME=HTTP_URL or NAME=DIR',
      });
    if (name === '' || value === '') throw bad('a name and a value are needed');
    if (value.startsWith('docker-image://')) {
      const image = value.slice('docker-image://'.length);
      if (image === '') throw bad('no image after docker-image://');
      out[name] = { image };
      continue;
    }
    if (value.startsWith('oci-layout://')) {
      out[name] = { image: formatOciLayoutRef(ociLayoutContext(value, bad)) };
      continue;
    }
    const remote = remoteContext(value, bad);
    if (remote) {
      out[name] = remote;
      continue;
    }
    if (/^(oci-layout|target|input):|^[a-z][\w+.-]*:\/\/|^git@/.test(value))
      throw bad(
        'only docker-image://, oci-layout://, git and http(s) URLs and local directories are supported',
      );
    const dir = resolve(value);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      throw bad(`${dir} not found`);
    }
    if (!isDir) throw bad(`${dir} is not a directory`);
    out[name] = { dir: realpathSync(dir) };
  }
  return out;
}

/**
 * dockerui's named context of a git URL (`git@`, `git://`, `ssh://`, `http(s)://….git`, with
 * `#ref:subdir` or `?ref=…`): the tree of that commit, `.git` only with `keep-git-dir=true`; of any
 * other http(s) URL: the download as the one file `/context` (not unpacked).
 */
function remoteContext(value: string, bad: (why: string) => Error): NamedContext | undefined {
  if (isGitSource(value)) {
    let parsed: ReturnType<typeof parseGitRef>;
    try {
      parsed = parseGitRef(value);
    } catch (e) {
      throw bad((e as Error).message);
    }
    const { keepGitDir, checksum, ...ref } = parsed;
    const source: GitOp = { kind: 'git', ...ref, keepGitDir: keepGitDir === true };
    if (checksum) source.checksum = checksum;
    return { url: value, source };
  }
  if (/^https?:\/\//.test(value))
    return { url: value, source: { kind: 'http', url: value, filename: 'context' } };
  return undefined;
}
