import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The persistent stat cache: (dev, ino, size, mtime, ctime) → sha256 per context file, one file per
 * context directory under `<root>/meta/statcache/`. It only decides whether to re-hash; cache keys
 * are always content. Written temp-then-rename, so a crash leaves the old or the new file and two
 * builds of one context at once just race to write equivalent data.
 *
 * Format (v2): a header line, then one line per file: `path TAB dev TAB ino TAB size TAB mtimeMs TAB
 * ctimeMs TAB sha256`, the path with `\`, TAB and LF escaped. An entry stays the text it was read as
 * until a lookup needs it. For 20,000 files (`bigctx`) loading and saving took ~170 + ~75 ms as a
 * JSON object (a Map of arrays, then Object.fromEntries) in a standalone run, ~40 + ~35 ms this way;
 * in a build, load, lookups and save went from ~130 to ~90 ms of the main thread. Numbers are
 * written as JavaScript prints them, which reads back as the same double.
 */
export type StatKey = [dev: number, ino: number, size: number, mtimeMs: number, ctimeMs: number];

const HEADER = 'tsbuild statcache 2';

export class StatCache {
  private readonly file: string;
  private readonly legacy: string;
  /** path -> the rest of its line (`dev\tino\tsize\tmtime\tctime\tsha256`) */
  private readonly old = new Map<string, string>();
  private readonly next = new Map<string, string>();
  private dirty = false;

  constructor(root: string, contextDir: string) {
    const id = createHash('sha256').update(contextDir).digest('hex').slice(0, 32);
    this.file = join(root, 'meta', 'statcache', `${id}.tsv`);
    this.legacy = join(root, 'meta', 'statcache', `${id}.json`);
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return; // none yet: start empty, it is only a cache
    }
    const start = text.indexOf('\n') + 1;
    // Another version or a torn file (a crash on an old version): start empty.
    if (text.slice(0, start) !== `${HEADER}\n` || !text.endsWith('\n')) return;
    for (let i = start; i < text.length; ) {
      const tab = text.indexOf('\t', i);
      const end = text.indexOf('\n', i);
      if (tab < 0 || tab > end) break;
      const path = text.slice(i, tab);
      this.old.set(path.includes('\\') ? unescapePath(path) : path, text.slice(tab + 1, end));
      i = end + 1;
    }
  }

  get(path: string, k: StatKey): string | undefined {
    const raw = this.old.get(path);
    if (raw === undefined) return undefined;
    const v = raw.split('\t');
    if (v.length !== 6) return undefined;
    for (let i = 0; i < 5; i++) if (Number(v[i]) !== k[i]) return undefined;
    this.next.set(path, raw);
    return v[5];
  }

  set(path: string, k: StatKey, hash: string): void {
    this.next.set(path, `${k.join('\t')}\t${hash}`);
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
    const lines = [HEADER];
    for (const [k, v] of out) lines.push(`${/[\\\t\n]/.test(k) ? escapePath(k) : k}\t${v}`);
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${lines.join('\n')}\n`);
    renameSync(tmp, this.file);
    rmSync(this.legacy, { force: true }); // the JSON file of versions before v2
  }
}

function escapePath(p: string): string {
  return p.replace(/[\\\t\n]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : '\\n'));
}

function unescapePath(p: string): string {
  return p.replace(/\\([\\tn])/g, (_, c: string) => (c === '\\' ? '\\' : c === 't' ? '\t' : '\n'));
}
