import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { byteOrder, hashFiles, PatternMatcher } from '../../context/index.js';
import { matchInView, sourceName, type ViewMatch } from './copy-sources.js';
import { directSource } from './direct-fs.js';
import type { SolverEnv } from './env.js';
import type { MergedRoot } from './merged-root.js';
import { mountView } from './snapshots.js';

interface Seen {
  rel: string;
  st: Stats;
  host: string;
}

/**
 * The content checksum of sources read from another step's result: BuildKit's content-based
 * ("slow") cache key, contenthash.Checksum of the selected paths. With it a COPY --from (or a bind
 * mount from a stage) whose source step ran again but left the selected files as they were is a
 * cache hit, and so is what follows. It covers what the copy shows: the matched names and paths,
 * and below each match the names, types, modes, owners (a --from copy keeps them), content and
 * link targets. Never times: BuildKit leaves them out too, so a hit keeps the times of the result
 * it reuses.
 */
export async function checksumMatches(
  matches: ViewMatch[],
  excludes: string[],
  signal?: AbortSignal,
): Promise<string> {
  const ex = excludes.length > 0 ? new PatternMatcher(excludes) : undefined;
  const perMatch = matches.map((m) => walk(m.host, ex));
  const files = perMatch.flat().filter((e) => e.st.isFile());
  const sums = await hashFiles(
    files.map((f) => f.host),
    files.reduce((n, f) => n + f.st.size, 0),
    signal,
  );
  const sumOf = new Map(files.map((f, i) => [f.host, sums[i]]));
  const h = createHash('sha256');
  for (const [i, m] of matches.entries()) {
    h.update(`match\0${m.path ?? ''}\0${m.name}\0`);
    for (const e of perMatch[i] ?? []) {
      const what = e.st.isFile()
        ? sumOf.get(e.host)
        : e.st.isSymbolicLink()
          ? readlinkSync(e.host)
          : e.st.isCharacterDevice() || e.st.isBlockDevice()
            ? String(e.st.rdev)
            : '';
      h.update(`${e.rel}\0${e.st.mode.toString(8)}\0${e.st.uid}:${e.st.gid}\0${what}\n`);
    }
  }
  return `sha256:${h.digest('hex')}`;
}

/**
 * `checksumMatches` of sources as a COPY --from or a bind mount reads them from a committed
 * snapshot: straight from its layers where it can (see directSource), else from a mounted view.
 */
export async function checksumInSnapshot(
  env: SolverEnv,
  snapshot: string | undefined,
  sources: string[],
  excludes: string[],
  signal?: AbortSignal,
): Promise<string> {
  const cleanups: (() => Promise<void>)[] = [];
  const merged = new Map<string, MergedRoot>();
  let view: Promise<string> | undefined;
  try {
    const matches: ViewMatch[] = [];
    for (const source of sources) {
      const direct = await directSource(env.store, snapshot, source, merged);
      if (direct !== undefined) matches.push({ host: direct, name: sourceName(source), path: source });
      else {
        view ??= mountView(env, snapshot, cleanups);
        for (const m of await matchInView(await view, source)) matches.push({ ...m, path: m.path ?? source });
      }
    }
    return await checksumMatches(matches, excludes, signal);
  } finally {
    await view?.catch(() => undefined);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

/** The match itself ('.') and, for a directory, everything below it in byte order, minus --exclude. */
function walk(host: string, ex: PatternMatcher | undefined): Seen[] {
  const out: Seen[] = [{ rel: '.', st: lstatSync(host), host }];
  const visit = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort(byteOrder)) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(dir, name);
      const st = lstatSync(abs);
      const excluded = ex?.matchesOrParentMatches(r) ?? false;
      if (!excluded) out.push({ rel: r, st, host: abs });
      if (st.isDirectory() && (!excluded || ex?.exclusions)) visit(abs, r);
    }
  };
  if (out[0]?.st.isDirectory()) visit(host, '');
  return out;
}
