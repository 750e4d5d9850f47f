import { posix } from 'node:path';
import { StoreError } from '../errors.js';
import { bfs } from './byte-fs.js';

const MAX_LINKS = 40;

/**
 * Cleans a tar entry name: leading `/` and `./` dropped (contained, like Docker), `.`/`..` resolved
 * lexically; a name that still climbs out (`../x`) or holds a NUL is LAYER_UNSAFE. '' = the root.
 */
export function cleanEntryPath(name: string): string {
  if (name.includes('\0')) throw unsafe(name, 'contains a NUL byte');
  // Most names are already clean (no `.`/`..`/empty components, relative): nothing to normalize.
  if (!NOT_PLAIN.test(name)) return checkLength(name.endsWith('/') ? name.slice(0, -1) : name);
  let p = posix.normalize(`/${name}`).replace(/^\/+/, '');
  if (p.endsWith('/')) p = p.slice(0, -1);
  if (p === '.') p = '';
  // normalize('/' + name) can never climb above '/', so check the raw name for escapes.
  const rel = posix.normalize(name.replace(/^\/+/, ''));
  if (!name.startsWith('/') && (rel === '..' || rel.startsWith('../')))
    throw unsafe(name, 'climbs out of the layer root');
  return checkLength(p);
}

const NOT_PLAIN = /(^|\/)\.\.?(\/|$)|\/\/|^\/|^$/;

function checkLength(p: string): string {
  // Byte strings (latin1): length = bytes.
  if (p.length > 4095) throw new StoreError('LAYER_INVALID', `entry name too long (${p.length} bytes)`);
  if (p.length <= 255) return p;
  for (const c of p.split('/')) {
    if (c.length > 255)
      throw new StoreError('LAYER_INVALID', `entry name component too long: ${c.slice(0, 40)}…`);
  }
  return p;
}

export function unsafe(name: string, why: string): StoreError {
  return new StoreError('LAYER_UNSAFE', `unsafe layer entry ${JSON.stringify(name.slice(0, 200))}: ${why}`, {
    hint: 'the layer tries to write outside its directory; it was rejected and nothing outside was touched',
  });
}

/**
 * Resolves paths inside `root` the way a chroot would (securejoin semantics): every symlink met on
 * the way is followed *inside* root (absolute targets restart at root, `..` stops at root). Nothing
 * resolved here can name a path outside root. Parent resolutions are cached until `invalidate()`.
 */
export class RootResolver {
  readonly root: string;
  readonly #cache = new Map<string, string>();
  /** Told of each missing parent this resolver creates (the extractor knows it starts empty). */
  readonly #onMkdir?: (path: string) => void;
  /**
   * Asked of each existing parent met while creating: true when it is (now) a directory of this
   * layer, so neither followed nor refused (see ExtractSink's flat mode: a lower layer's).
   */
  readonly #claim?: (path: string, st: import('node:fs').Stats) => boolean;

  constructor(
    root: string,
    onMkdir?: (path: string) => void,
    claim?: (path: string, st: import('node:fs').Stats) => boolean,
  ) {
    this.root = root;
    this.#onMkdir = onMkdir;
    this.#claim = claim;
  }

  invalidate(): void {
    this.#cache.clear();
  }

  /** Absolute path of directory `rel` (cleaned), created (0755) where missing. */
  dir(rel: string): string {
    if (rel === '') return this.root;
    const hit = this.#cache.get(rel);
    if (hit !== undefined) return hit;
    const parts = this.#resolve(rel.split('/'), true);
    const abs = parts.length ? `${this.root}/${parts.join('/')}` : this.root;
    this.#cache.set(rel, abs);
    return abs;
  }

  /** The absolute path for entry `rel`: its parent resolved (and created), its last name as is. */
  entry(rel: string): { parent: string; path: string; name: string } {
    const i = rel.lastIndexOf('/');
    const name = rel.slice(i + 1);
    const parent = this.dir(i < 0 ? '' : rel.slice(0, i));
    return { parent, path: `${parent}/${name}`, name };
  }

  /**
   * Where entry `rel` resolves now (its parent followed, its last name as is), or undefined when a
   * parent is missing. Creates nothing: a check made after later entries may have replaced a parent
   * must not plant the directories a symlink there points at. A parent found is cached as `dir`
   * would have cached it.
   */
  lookup(rel: string): string | undefined {
    const i = rel.lastIndexOf('/');
    if (i < 0) return rel === '' ? this.root : `${this.root}/${rel}`;
    const dir = rel.slice(0, i);
    let abs = this.#cache.get(dir);
    if (abs === undefined) {
      const missing = { any: false };
      const parts = this.#resolve(dir.split('/'), false, missing);
      if (missing.any) return undefined;
      abs = parts.length ? `${this.root}/${parts.join('/')}` : this.root;
      this.#cache.set(dir, abs);
    }
    return `${abs}/${rel.slice(i + 1)}`;
  }

  /** Relative path (from root) of an absolute path this resolver produced. */
  relOf(abs: string): string {
    return abs === this.root ? '' : abs.slice(this.root.length + 1);
  }

  #resolve(input: string[], create: boolean, missing?: { any: boolean }): string[] {
    const out: string[] = [];
    const queue = [...input];
    let links = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        out.pop();
        continue;
      }
      const p = `${this.root}/${[...out, c].join('/')}`;
      let st: import('node:fs').Stats | undefined;
      try {
        st = bfs.lstat(p);
      } catch {
        st = undefined;
      }
      if (st && create && this.#claim?.(p, st)) {
        out.push(c);
        continue;
      }
      if (st?.isSymbolicLink()) {
        if (++links > MAX_LINKS)
          throw new StoreError('LAYER_INVALID', `too many symlinks resolving ${input.join('/')}`);
        const target = bfs.readlink(p);
        if (target.startsWith('/')) out.length = 0;
        queue.unshift(...target.split('/'));
        continue;
      }
      if (st === undefined) {
        if (!create) {
          if (missing) missing.any = true;
          out.push(c);
          continue;
        }
        bfs.mkdir(p, 0o755);
        this.#onMkdir?.(p);
      } else if (!st.isDirectory()) {
        throw new StoreError(
          'LAYER_INVALID',
          `path ${input.join('/')} in the layer: ${[...out, c].join('/')} is not a directory`,
        );
      }
      out.push(c);
    }
    return out;
  }
}
