import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { isTempName, readJson } from './atomic.js';
import { removeDeadTemps } from './gc.js';
import type { LocalStore } from './store.js';
import { type FsckProblem, type FsckResult, layerCacheKey, type SnapshotInfo } from './types.js';

/**
 * Verifies every blob (re-hashed) and every snapshot record (its dir, its parent, one record per id)
 * and the metadata records. Leftovers a kill -9 leaves (stale ingests, temp files, orphan snapshot
 * dirs) are reported as garbage: they do not make the store inconsistent, and --repair removes them.
 */
export async function fsck(store: LocalStore, opts: { repair?: boolean } = {}): Promise<FsckResult> {
  const repair = opts.repair ?? false;
  const problems: FsckProblem[] = [];
  const add = (p: Omit<FsckProblem, 'repaired'>, fix?: () => Promise<unknown>) => {
    const entry: FsckProblem = { ...p, repaired: false };
    problems.push(entry);
    if (repair && fix) {
      return fix().then(() => {
        entry.repaired = true;
      });
    }
  };
  const checkedBlobs = await checkBlobs(store, add);
  const { count: checkedSnapshots, broken } = await checkSnapshots(store, add);
  await checkMeta(store, add, broken);
  for (const s of await store.content.status()) {
    if (!s.locked)
      await add({ kind: 'ingest', id: s.ref, problem: 'stale ingest (writer gone)', garbage: true });
  }
  if (repair) await store.content.cleanIngests({ force: true });
  for (const t of await removeDeadTemps(store.root, !repair)) {
    problems.push({
      kind: 'tmp',
      id: t,
      problem: 'temporary file of a dead writer',
      garbage: true,
      repaired: repair,
    });
  }
  const errors = problems.filter((p) => !p.garbage && !p.repaired);
  return { ok: errors.length === 0, checkedBlobs, checkedSnapshots, problems };
}

type Add = (p: Omit<FsckProblem, 'repaired'>, fix?: () => Promise<unknown>) => Promise<void> | undefined;

async function checkBlobs(store: LocalStore, add: Add): Promise<number> {
  const dir = join(store.root, 'blobs', 'sha256');
  let n = 0;
  for (const name of (await fsp.readdir(dir)).sort()) {
    if (isTempName(name)) continue;
    const path = join(dir, name);
    const st = await fsp.lstat(path);
    n++;
    if (!/^[a-f0-9]{64}$/.test(name) || !st.isFile()) {
      await add({ kind: 'blob', id: name, problem: 'not a blob (bad name or not a regular file)' }, () =>
        fsp.rm(path, { recursive: true, force: true }),
      );
      continue;
    }
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }))
      hash.update(chunk as Buffer);
    const got = hash.digest('hex');
    if (got !== name) {
      await add({ kind: 'blob', id: `sha256:${name}`, problem: `content hashes to sha256:${got}` }, () =>
        fsp.rm(path),
      );
    }
  }
  return n;
}

async function checkSnapshots(store: LocalStore, add: Add): Promise<{ count: number; broken: Set<string> }> {
  const recs = store.snapshots.records;
  const byName = await readRecords(recs, add);
  const broken = new Set<string>();
  for (const r of byName.values()) {
    const st = await fsp.stat(join(recs.dataDir, r.id, 'fs')).catch(() => undefined);
    if (!st?.isDirectory()) broken.add(r.name);
  }
  // A snapshot whose parent is missing or broken is broken too (its lowers are gone).
  let changed = true;
  while (changed) {
    changed = false;
    for (const r of byName.values()) {
      if (broken.has(r.name) || r.parent === undefined) continue;
      const p = byName.get(r.parent);
      if (!p || broken.has(p.name) || p.kind !== 'committed') {
        broken.add(r.name);
        changed = true;
      }
    }
  }
  for (const name of broken) {
    const r = byName.get(name)!;
    await add(
      { kind: 'snapshot', id: name, problem: `missing data dir or parent (${r.parent ?? 'none'})` },
      async () => {
        await recs.delete(name);
        await fsp.rm(join(recs.dataDir, r.id), { recursive: true, force: true });
      },
    );
  }
  const ids = new Set([...byName.values()].map((r) => r.id));
  for (const d of await fsp.readdir(recs.dataDir)) {
    if (ids.has(d)) continue;
    await add({ kind: 'snapshot', id: d, problem: 'snapshot dir without a record', garbage: true }, () =>
      fsp.rm(join(recs.dataDir, d), { recursive: true, force: true }),
    );
  }
  return { count: byName.size, broken };
}

type Records = LocalStore['snapshots']['records'];

/** The readable snapshot records by name; unreadable ones, and a second record of one dir, reported. */
async function readRecords(recs: Records, add: Add): Promise<Map<string, SnapshotInfo>> {
  const byName = new Map<string, SnapshotInfo>();
  const byId = new Map<string, SnapshotInfo[]>();
  for (const f of (await fsp.readdir(recs.recordsDir)).sort()) {
    if (!f.endsWith('.json') || isTempName(f)) continue;
    const file = join(recs.recordsDir, f);
    const rec = await readJson<SnapshotInfo>(file).catch(() => undefined);
    if (
      !rec ||
      typeof rec.name !== 'string' ||
      typeof rec.id !== 'string' ||
      recs.pathOf(rec.name) !== file
    ) {
      await add({ kind: 'snapshot', id: file, problem: 'unreadable snapshot record' }, () =>
        fsp.rm(file, { force: true }),
      );
      continue;
    }
    byName.set(rec.name, rec);
    byId.set(rec.id, [...(byId.get(rec.id) ?? []), rec]);
  }
  // One id, two records: a crash between writing the committed record and dropping the active one.
  for (const list of byId.values()) {
    if (list.length < 2) continue;
    const keep = list.find((r) => r.kind === 'committed') ?? list[0]!;
    for (const r of list) {
      if (r === keep) continue;
      byName.delete(r.name);
      await add(
        { kind: 'snapshot', id: r.name, problem: `shares dir ${r.id} with ${keep.name}`, garbage: true },
        () => recs.delete(r.name),
      );
    }
  }
  return byName;
}

async function checkMeta(store: LocalStore, add: Add, broken: Set<string>): Promise<void> {
  const m = store.meta;
  for (const [kind, dir] of [
    ['tags', m.tags.dir],
    ['cache', m.cache.dir],
    ['leases', m.leases.dir],
    ['layers', m.layers.dir],
  ] as const) {
    for (const f of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (!f.endsWith('.json') || isTempName(f)) continue;
      const ok = await readJson(join(dir, f)).then(
        (v) => typeof v === 'object' && v !== null,
        () => false,
      );
      if (!ok)
        await add({ kind: 'meta', id: `${kind}/${f}`, problem: 'unreadable record' }, () =>
          fsp.rm(join(dir, f)),
        );
    }
  }
  for (const t of await m.tags.list()) {
    if (!(await store.content.has(t.target.digest))) {
      await add({ kind: 'meta', id: `tag ${t.name}`, problem: `target ${t.target.digest} missing` }, () =>
        m.tags.delete(t.name),
      );
    }
  }
  for (const c of await m.cache.list()) {
    if (c.snapshot && (broken.has(c.snapshot) || !(await store.snapshots.records.get(c.snapshot)))) {
      await add(
        { kind: 'meta', id: `cache ${c.key}`, problem: `snapshot ${c.snapshot} missing or broken` },
        () => m.cache.delete(c.key),
      );
    }
  }
  for (const e of await m.layers.list()) {
    const key = layerCacheKey(e.snapshot, e.sourceDateEpoch);
    if ((await store.snapshots.records.get(e.snapshot))?.id !== e.snapshotId) {
      await add(
        {
          kind: 'meta',
          id: `layers ${e.snapshot}`,
          problem: 'made from a snapshot that is gone',
          garbage: true,
        },
        () => m.layers.delete(key),
      );
      continue;
    }
    const missing: typeof e.layers = [];
    for (const l of e.layers) if (!(await store.content.has(l.digest))) missing.push(l);
    if (missing.length > 0) {
      await add(
        { kind: 'meta', id: `layers ${e.snapshot}`, problem: 'remembered layer blob missing', garbage: true },
        () =>
          m.layers.put(key, {
            ...e,
            layers: e.layers.filter((l) => !missing.includes(l)),
          }),
      );
    }
  }
}
