import type { CacheRecord, GcOptions } from './types.js';

/** The store as a graph, for marking. Pure data: gc.ts loads it, this file decides. */
export interface StoreGraph {
  blobs: Map<string, { size: number; createdAt: number; children: string[] }>;
  snapshots: Map<string, { parent?: string; size: number; createdAt: number; kind: string }>;
  /** Roots that are never dropped: tag targets, live leases. */
  fixedBlobs: string[];
  fixedSnapshots: string[];
  cache: CacheRecord[];
  /** snapshot name → compressed layer blobs remembered for it (kept while the snapshot is). */
  layerBlobs: Map<string, string[]>;
  /** Anything created at/after this instant may belong to a build in flight (no lease yet): keep. */
  protectAfter?: number;
}

export interface GcPlan {
  keepCache: CacheRecord[];
  dropCache: CacheRecord[];
  dropBlobs: string[];
  dropSnapshots: string[];
  bytes: number;
}

export function mark(g: StoreGraph, cache: CacheRecord[]): { blobs: Set<string>; snapshots: Set<string> } {
  const blobs = new Set<string>();
  const snaps = new Set<string>();
  const blobStack = [...g.fixedBlobs];
  const snapStack = [...g.fixedSnapshots];
  for (const c of cache) {
    if (c.snapshot) snapStack.push(c.snapshot);
    blobStack.push(...(c.blobs ?? []));
  }
  const t = g.protectAfter;
  if (t !== undefined) {
    for (const [d, b] of g.blobs) if (b.createdAt >= t) blobStack.push(d);
    for (const [n, s] of g.snapshots) if (s.createdAt >= t) snapStack.push(n);
  }
  while (snapStack.length) {
    const n = snapStack.pop()!;
    if (snaps.has(n)) continue;
    const s = g.snapshots.get(n);
    if (!s) continue;
    snaps.add(n);
    if (s.parent) snapStack.push(s.parent);
    blobStack.push(...(g.layerBlobs.get(n) ?? []));
  }
  while (blobStack.length) {
    const d = blobStack.pop()!;
    if (blobs.has(d)) continue;
    const b = g.blobs.get(d);
    if (!b) continue;
    blobs.add(d);
    blobStack.push(...b.children);
  }
  return { blobs, snapshots: snaps };
}

function sizeOf(g: StoreGraph, m: { blobs: Set<string>; snapshots: Set<string> }): number {
  let n = 0;
  for (const d of m.blobs) n += g.blobs.get(d)?.size ?? 0;
  for (const s of m.snapshots) n += g.snapshots.get(s)?.size ?? 0;
  return n;
}

/** Which cache records go (policy), then everything no root reaches. */
export function planGc(g: StoreGraph, opts: GcOptions, now = Date.now()): GcPlan {
  let keep = g.cache.filter((c) => !c.snapshot || g.snapshots.has(c.snapshot));
  if (opts.all) keep = [];
  if (opts.olderThanMs !== undefined) keep = keep.filter((c) => now - c.lastUsed < opts.olderThanMs!);
  if (opts.keepBytes !== undefined) {
    // Least recently used first, until what stays fits.
    keep = [...keep].sort((a, b) => a.lastUsed - b.lastUsed);
    while (keep.length > 0 && sizeOf(g, mark(g, keep)) > opts.keepBytes) keep.shift();
  }
  const kept = new Set(keep);
  const m = mark(g, keep);
  const dropBlobs = [...g.blobs.keys()].filter((d) => !m.blobs.has(d));
  const dropSnapshots = [...g.snapshots.keys()].filter((s) => !m.snapshots.has(s));
  let bytes = 0;
  for (const d of dropBlobs) bytes += g.blobs.get(d)!.size;
  for (const s of dropSnapshots) bytes += g.snapshots.get(s)!.size;
  return { keepCache: keep, dropCache: g.cache.filter((c) => !kept.has(c)), dropBlobs, dropSnapshots, bytes };
}

/** Children before parents, so a removal never meets SNAPSHOT_IN_USE. */
export function removalOrder(names: string[], parentOf: (n: string) => string | undefined): string[] {
  const set = new Set(names);
  const depth = new Map<string, number>();
  const d = (n: string): number => {
    const cached = depth.get(n);
    if (cached !== undefined) return cached;
    const p = parentOf(n);
    const v = p && set.has(p) ? d(p) + 1 : 0;
    depth.set(n, v);
    return v;
  };
  return [...names].sort((a, b) => d(b) - d(a));
}

/** Digests named by `digest` fields anywhere in a JSON document (manifest, index, …). */
export function childDigests(doc: unknown, out: string[] = []): string[] {
  if (Array.isArray(doc)) for (const v of doc) childDigests(v, out);
  else if (doc && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc)) {
      if (k === 'digest' && typeof v === 'string' && /^sha256:[a-f0-9]{64}$/.test(v)) out.push(v);
      else if (typeof v === 'object') childDigests(v, out);
    }
  }
  return out;
}
