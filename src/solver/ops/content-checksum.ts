import { createHash } from 'node:crypto';
import { closeSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { byteOrder, PatternMatcher } from '../../context/index.js';
import { fsPath, nfs, readdirNames, readlinkName } from '../../fs-names.js';
import type { ContentFamily } from '../content-cache.js';
import { digestOf, type Vertex } from '../graph.js';
import { isRandomKey, type OpResult } from '../scheduler.js';
import { includedWithParents } from './copy-parents.js';
import { matchInView, sourceName, type ViewMatch } from './copy-sources.js';
import { visibleEntries } from './copy-tree.js';
import { directSource } from './direct-fs.js';
import type { SolvedFs, SolverEnv } from './env.js';
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
  include?: string,
): Promise<string> {
  const ex = excludes.length > 0 ? new PatternMatcher(excludes) : undefined;
  const pause = yielder();
  const perMatch: Seen[][] = [];
  for (const m of matches) {
    const seen = await walk(m.host, ex, pause);
    // --parents: only what the copy takes (the match itself, `.`, stays: it names the match)
    const kept =
      include === undefined
        ? undefined
        : new Set(
            includedWithParents(
              seen.slice(1).map((e) => e.rel),
              include,
            ),
          );
    perMatch.push(kept ? seen.filter((e, i) => i === 0 || kept.has(e.rel)) : seen);
  }
  const buf = Buffer.allocUnsafe(1 << 20);
  const sumOf = new Map<string, string>();
  for (const f of perMatch.flat()) {
    if (!f.st.isFile()) continue;
    await pause();
    signal?.throwIfAborted();
    sumOf.set(f.host, await hashFile(f.host, buf, pause));
  }
  const h = createHash('sha256');
  for (const [i, m] of matches.entries()) {
    h.update(fsPath(`match\0${m.path ?? ''}\0${m.name}\0`));
    for (const e of perMatch[i] ?? []) {
      const what = e.st.isFile()
        ? sumOf.get(e.host)
        : e.st.isSymbolicLink()
          ? readlinkName(e.host)
          : e.st.isCharacterDevice() || e.st.isBlockDevice()
            ? String(e.st.rdev)
            : '';
      // fsPath: a name that is not UTF-8 hashes as its bytes (as a string, every escape is U+FFFD)
      h.update(fsPath(`${e.rel}\0${e.st.mode.toString(8)}\0${e.st.uid}:${e.st.gid}\0${what}\n`));
    }
  }
  return `sha256:${h.digest('hex')}`;
}

/** Sources an op reads from one of its inputs (COPY --from sources, a bind mount's source). */
export interface ContentRead {
  input: number;
  sources: string[];
  excludes: string[];
  /** COPY --parents: the include pattern below each source (see copy-parents.ts). */
  include?: string;
}

/**
 * An op's content key: the inputs it reads in `reads` stand by the checksum of what it reads from
 * them, the others by their keys; `extra` is what else its key holds (context checksums).
 */
export async function contentKeyOf(
  env: SolverEnv,
  v: Vertex,
  inputs: OpResult[],
  inputKeys: string[],
  reads: ContentRead[],
  extra: () => Promise<Record<string, unknown>>,
  signal: AbortSignal,
): Promise<string | undefined> {
  const keys = otherKeys(inputKeys, reads);
  if (!keys) return undefined;
  const contents: string[] = [];
  for (const r of reads) {
    const snap = (inputs[r.input] as OpResult & SolvedFs).snapshot;
    contents.push(await checksumInSnapshot(env, snap, r.sources, r.excludes, signal, r.include));
  }
  return digestOf({ op: v.op, inputKeys: keys, ...(await extra()), contents });
}

/** The family of `contentKeyOf` (see content-cache.ts): the same key without the contents. */
export async function contentFamilyOf(
  v: Vertex,
  inputKeys: string[],
  reads: ContentRead[],
  extra: () => Promise<Record<string, unknown>>,
): Promise<ContentFamily | undefined> {
  const keys = otherKeys(inputKeys, reads);
  if (!keys) return undefined;
  const inputs = [...new Set(reads.map((r) => r.input))];
  return { family: digestOf({ family: v.op, inputKeys: keys, ...(await extra()) }), inputs };
}

/**
 * The keys of the inputs not read by content (those are null): undefined when nothing is read by
 * content, or when an input names a one-off result (below a no-cache step), as no key made of it
 * could ever be hit.
 */
function otherKeys(inputKeys: string[], reads: ContentRead[]): (string | null)[] | undefined {
  const byContent = new Set(reads.map((r) => r.input));
  if (byContent.size === 0) return undefined;
  const keys = inputKeys.map((k, i) => (byContent.has(i) ? null : k));
  return keys.some(isRandomKey) ? undefined : keys;
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
  include?: string,
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
    return await checksumMatches(matches, excludes, signal, include);
  } finally {
    await view?.catch(() => undefined);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

/**
 * Sync file system calls are several times faster here than Node's async ones for a tree of small
 * files (node_modules: ~70 ms against ~400 ms), but this runs beside a step, which needs the event
 * loop to start and to hear from its process: so the work yields every few milliseconds.
 */
const YIELD_MS = 4;

// Date.now(), not performance.now(): the `performance` global loads perf_hooks on first use (~3 ms
// of a build's critical path), and milliseconds are all this needs.
function yielder(): () => Promise<void> {
  let since = Date.now();
  return async () => {
    if (Date.now() - since < YIELD_MS) return;
    await new Promise<void>((r) => setImmediate(r));
    since = Date.now();
  };
}

/** sha256 of a file read a buffer at a time, with pauses between reads (a big file is many). */
async function hashFile(path: string, buf: Buffer, pause: () => Promise<void>): Promise<string> {
  const h = createHash('sha256');
  const fd = nfs.open(path, 'r');
  try {
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
      h.update(buf.subarray(0, n));
      await pause();
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** The match itself ('.') and, for a directory, everything below it in byte order, minus --exclude. */
async function walk(
  host: string,
  ex: PatternMatcher | undefined,
  pause: () => Promise<void>,
): Promise<Seen[]> {
  const out: Seen[] = [{ rel: '.', st: nfs.lstat(host), host }];
  const visit = async (dir: string, rel: string) => {
    for (const [name, st] of visibleEntries(dir, readdirNames(dir).sort(byteOrder))) {
      await pause();
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(dir, name);
      const excluded = ex?.matchesOrParentMatches(r) ?? false;
      if (!excluded) out.push({ rel: r, st, host: abs });
      if (st.isDirectory() && (!excluded || ex?.exclusions)) await visit(abs, r);
    }
  };
  if (out[0]?.st.isDirectory()) await visit(host, '');
  return out;
}
