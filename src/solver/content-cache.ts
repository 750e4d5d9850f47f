import type { Vertex } from './graph.js';
import type { CacheIndex, OpContext, OpImpl, OpResult } from './scheduler.js';

/**
 * BuildKit's content-based ("slow") cache keys, computed lazily. BuildKit hashes what a COPY --from
 * (or a bind mount from a stage) reads after every miss, so that a source stage that ran again but
 * made the same files is a hit. Hashing a node_modules costs as much as copying it, and on a cold
 * build it cannot hit anything. So tsbuild hashes only when there is something to compare with:
 * each run of a step records a *family* record under the key of everything but the content it
 * reads (the op, its other inputs), naming the source snapshots it read. A later miss in the same
 * family hashes what it reads now, and, the first time, what the last run read; every run whose
 * content key is known is recorded under it. A record there is this step's result, and its
 * dependents are found under the key that result was first made with.
 */
export interface ContentFamily {
  /** The family key: the op and every input key but those of `inputs`. */
  family: string;
  /** Inputs read by content. */
  inputs: number[];
}

/** What a family record keeps beside the result. */
export interface FamilyRecord {
  /** The key the result was made under: the one its dependents recorded themselves under. */
  key: string;
  /** The snapshots the result read, by input index. */
  sources: Record<number, string | undefined>;
  /** The content key of those sources, once computed. */
  contentKey?: string;
}

export interface ContentLookup {
  hit?: OpResult;
  /** The key the hit's dependents are found under. */
  foundAs?: string;
  /** The content key of what this step reads, when it was computed. */
  contentKey?: string;
}

/** A family record as the cache index keeps it (an OpResult with the family beside it). */
export type FamilyResult = OpResult & { family?: FamilyRecord };

/**
 * Compares this step's sources with those of the family's earlier runs: nothing at all when no
 * run was recorded (nothing could hit, so nothing is hashed). A failure (a source not found, an
 * old snapshot pruned) only means no hit: the step reports its own errors.
 */
export async function lookupByContent(o: {
  impl: OpImpl;
  v: Vertex;
  inputs: OpResult[];
  inputKeys: string[];
  cache: CacheIndex;
  ctx: Omit<OpContext, 'key'>;
  family: ContentFamily;
}): Promise<ContentLookup> {
  const { impl, v, inputs, inputKeys, cache, ctx } = o;
  try {
    const last = (await cache.get(o.family.family)) as FamilyResult | undefined;
    if (!last?.family || !impl.contentKey) return {};
    const now = await impl.contentKey(v, inputs, inputKeys, ctx);
    if (!now) return {};
    // Any earlier run whose content key is known is recorded under it; the last run's is
    // computed now if it is not known yet, and recorded so.
    let rec = (await cache.get(now)) as FamilyResult | undefined;
    if (!rec?.family && !last.family.contentKey) {
      const old = await oldContentKey(impl, v, inputs, inputKeys, ctx, last.family).catch(() => undefined);
      if (old) {
        const known: FamilyResult = { ...last, family: { ...last.family, contentKey: old } };
        await cache.put(o.family.family, known);
        await cache.put(old, known);
        if (old === now) rec = known;
      }
    }
    if (!rec?.family) return { contentKey: now };
    const { family: _, ...hit } = rec;
    return { hit, foundAs: rec.family.key, contentKey: now };
  } catch {
    return {};
  }
}

async function oldContentKey(
  impl: OpImpl,
  v: Vertex,
  inputs: OpResult[],
  inputKeys: string[],
  ctx: Omit<OpContext, 'key'>,
  fam: FamilyRecord,
): Promise<string | undefined> {
  const then = inputs.map((r, i) => (i in fam.sources ? { snapshot: fam.sources[i] } : r));
  return impl.contentKey?.(v, then, inputKeys, ctx);
}

/** The family record of a step that ran: its result, the key it was made under, what it read. */
export function familyRecord(
  result: OpResult,
  key: string,
  family: ContentFamily,
  inputs: OpResult[],
  contentKey: string | undefined,
): FamilyResult {
  const sources: Record<number, string | undefined> = {};
  for (const i of family.inputs) sources[i] = inputs[i]?.snapshot;
  return { ...result, family: { key, sources, ...(contentKey ? { contentKey } : {}) } };
}

/** How long a step waits for its content lookup before it starts anyway (see execBesideLookup). */
const CONTENT_HEAD_START_MS = 25;

/**
 * Runs the step (`run`) while its content lookup goes on. A content hit wins (BuildKit would not
 * have run the step): a step still running is aborted, a finished one's result is dropped (its
 * snapshot goes with the next prune), a failure is forgotten. Otherwise the step's own outcome
 * stands. Most lookups take milliseconds (a few files): with a short head start a hit never starts
 * the step (a RUN's container, say) only to stop it.
 */
export async function execBesideLookup(
  run: (signal: AbortSignal) => Promise<OpResult>,
  content: Promise<ContentLookup> | undefined,
  signal: AbortSignal,
  started: () => void,
): Promise<ContentLookup & { result?: OpResult }> {
  const headStart = content
    ? await Promise.race([
        content,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), CONTENT_HEAD_START_MS)),
      ])
    : undefined;
  if (headStart?.hit && !signal.aborted) return headStart;
  started();
  const local = new AbortController();
  const running: Promise<{ result: OpResult } | { error: unknown }> = run(
    content ? AbortSignal.any([signal, local.signal]) : signal,
  ).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  // Whichever settles first; a content hit while the step runs stops it.
  const early = content ? await Promise.race([content, running.then(() => undefined)]) : undefined;
  if (early?.hit && !signal.aborted) local.abort(new Error('found in the cache by content'));
  const done = await running;
  const lookup = (await content) ?? {};
  if (lookup.hit && !signal.aborted) return lookup;
  if ('error' in done) throw done.error;
  return { ...(lookup.contentKey ? { contentKey: lookup.contentKey } : {}), result: done.result };
}
