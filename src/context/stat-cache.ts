import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The persistent stat cache: (dev, ino, size, mtime, ctime) → sha256 per context file, one JSON file
 * per context directory under `<root>/meta/statcache/`. It only decides whether to re-hash; cache
 * keys are always content. Written temp-then-rename, so a crash leaves the old or the new file and
 * two builds of one context at once just race to write equivalent data.
 */
export type StatKey = [dev: number, ino: number, size: number, mtimeMs: number, ctimeMs: number];

export class StatCache {
  private readonly file: string;
  private readonly old = new Map<string, [number, number, number, number, number, string]>();
  private readonly next = new Map<string, [number, number, number, number, number, string]>();
  private dirty = false;

  constructor(root: string, contextDir: string) {
    const id = createHash('sha256').update(contextDir).digest('hex').slice(0, 32);
    this.file = join(root, 'meta', 'statcache', `${id}.json`);
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as Record<
        string,
        [number, number, number, number, number, string]
      >;
      for (const [k, v] of Object.entries(data)) if (Array.isArray(v) && v.length === 6) this.old.set(k, v);
    } catch {
      // Missing or corrupt (e.g. a crash on an old version): start empty, it is only a cache.
    }
  }

  get(path: string, k: StatKey): string | undefined {
    const v = this.old.get(path);
    if (!v) return undefined;
    if (v[0] !== k[0] || v[1] !== k[1] || v[2] !== k[2] || v[3] !== k[3] || v[4] !== k[4]) return undefined;
    this.next.set(path, v);
    return v[5];
  }

  set(path: string, k: StatKey, hash: string): void {
    this.next.set(path, [...k, hash]);
    this.dirty = true;
  }

  /**
   * Persists what this scan saw (entries of deleted files drop out). `keep`: paths outside a partial
   * scan, whose old entries stay as they were.
   */
  save(keep?: (path: string) => boolean): void {
    const out = new Map(this.next);
    if (keep) for (const [k, v] of this.old) if (!out.has(k) && keep(k)) out.set(k, v);
    if (!this.dirty && out.size === this.old.size) return;
    mkdirSync(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(out)));
    renameSync(tmp, this.file);
  }
}
