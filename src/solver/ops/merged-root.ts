import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { nfs, readlinkName } from '../../fs-names.js';
import { resolveComponents } from '../../resolve-components.js';
import { fileTimes, lstatOrUndefined } from './copy-io.js';

/**
 * The merged view cannot be read without overlayfs itself (an opaque dir is an xattr Node cannot
 * read, so a name found below the topmost copy of its parent may or may not be visible), or the
 * operation is one the direct path does not do: the caller mounts and runs the plain path instead.
 */
export class NeedsMount extends Error {}

export interface Entry {
  layer: number;
  host: string;
  st: Stats;
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * An overlay stack read without mounting it: `layers` top first (a snapshot's diff dir, then its
 * lowers). With `writable`, layer 0 is an upper no overlay was ever mounted on: its dirs were made
 * here (never opaque), so a name below one of them is looked up in the lowers too. Every answer is
 * either what overlayfs would show or a NeedsMount; never a guess.
 */
export class MergedRoot {
  constructor(
    readonly layers: string[],
    readonly writable: boolean,
  ) {}

  get upper(): string {
    return this.layers[0] as string;
  }

  /** The visible entry at `parts` (already resolved: the last component is not followed). */
  lookup(parts: string[]): Entry | undefined {
    const n = this.layers.length;
    // Child search window of the current parent: [lo, hi); a hit below `sure` needs opacity info.
    let lo = 0;
    let hi = n;
    let sure = n;
    for (let k = 0; k < parts.length; k++) {
      const rel = parts.slice(0, k + 1).join('/');
      let e: Entry | undefined;
      for (let i = lo; i < hi && !e; i++) {
        const host = join(this.layers[i] as string, rel);
        const st = lstatOrUndefined(host);
        if (st) e = { layer: i, host, st };
      }
      if (!e) return undefined;
      if (e.layer > sure) throw new NeedsMount(rel);
      if (isWhiteout(e.st)) return undefined;
      if (k === parts.length - 1) return e;
      if (!e.st.isDirectory()) throw new NeedsMount(rel);
      lo = e.layer;
      hi = n;
      sure = e.layer;
      if (e.layer === 0 && this.writable) [hi, sure] = this.#belowUpper(rel);
    }
    return { layer: 0, host: this.upper, st: nfs.lstat(this.upper) };
  }

  /** A dir of the upper merges with the first lower holding the name, if that is a dir. */
  #belowUpper(rel: string): [number, number] {
    for (let j = 1; j < this.layers.length; j++) {
      const st = lstatOrUndefined(join(this.layers[j] as string, rel));
      if (!st) continue;
      return st.isDirectory() ? [this.layers.length, j] : [j, j];
    }
    return [this.layers.length, this.layers.length];
  }

  /** True if a layer from `from` down has an entry at `rel` (visible or not). */
  inLowers(rel: string, from = 1): boolean {
    for (let j = from; j < this.layers.length; j++)
      if (lstatOrUndefined(join(this.layers[j] as string, rel))) return true;
    return false;
  }

  /** `resolveInRoot` over the merged view: the resolved components, symlinks followed inside it. */
  resolve(path: string, followLast = true): string[] {
    return resolveComponents(path, followLast, (parts) => {
      const e = this.lookup(parts);
      return e?.st.isSymbolicLink() ? readlinkName(e.host) : undefined;
    });
  }

  /** Host path of what a container path shows (symlinks followed), for reads; '' if absent. */
  hostOf(path: string): string {
    return this.lookup(this.resolve(path))?.host ?? '';
  }

  /**
   * Overlay's copy-up, for a write at `parts`: every existing ancestor is made in the upper with
   * the mode, owner and times it shows (the write then dates its parent, as in a mounted upper).
   * Stops at the first missing ancestor: the caller's MkdirAll creates the rest.
   */
  copyUpFor(parts: string[]): void {
    const made: [string, Stats][] = [];
    for (let k = 1; k < parts.length; k++) {
      const sub = parts.slice(0, k);
      const host = join(this.upper, ...sub);
      const mine = lstatOrUndefined(host);
      if (mine) {
        if (!mine.isDirectory()) throw new NeedsMount(sub.join('/'));
        continue;
      }
      const e = this.lookup(sub);
      if (!e) break;
      if (!e.st.isDirectory()) throw new NeedsMount(sub.join('/'));
      nfs.mkdir(host, 0o777);
      nfs.lchown(host, e.st.uid, e.st.gid);
      nfs.chmod(host, e.st.mode & 0o7777);
      made.push([host, e.st]);
    }
    // Times last, deepest first: making a child dated its parent; overlay restores the parent's.
    for (const [host, st] of made.reverse()) nfs.utimes(host, ...fileTimes(st));
  }
}
