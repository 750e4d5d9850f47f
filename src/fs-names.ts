import {
  chmodSync,
  copyFileSync,
  type Dirent,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  type Stats,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';

/*
 * File names that are not UTF-8, as JS strings. Linux names are bytes; Node decodes them as UTF-8
 * and turns each invalid byte into U+FFFD, so such a file cannot even be opened by the name readdir
 * gave. BuildKit copies them byte for byte (an image layer, a stage's RUN or the build context may
 * have them). Here each byte of an invalid sequence becomes the lone surrogate U+DC80 + (byte -
 * 0x80), PEP 383's "surrogateescape": valid UTF-8 never decodes to a lone surrogate, so the mapping
 * is one to one, and a name that is valid UTF-8 is the string Node gives anyway. `fsPath` turns an
 * escaped string back into the bytes for fs calls; `nameBytes` gives the bytes to hash (a plain
 * `hash.update(string)` would write U+FFFD for every escape: two names, one key).
 */

const ESCAPED = /[\uDC80-\uDCFF]/;

/**
 * Escapes exist only in strings made from names this process decoded (`decodeName`), so until it
 * has made one no path can hold any: the checks below skip the regex (which costs ~0.3 µs a path,
 * ~45 ms over `bigctx`'s 160,000 stats). A lone surrogate from elsewhere (a JSON `"\udcff"` in a
 * Dockerfile) is then, as in Go, the replacement character.
 */
let decodedEscapes = false;

/** The bytes of a name read from disk as a string (escapes where it is not UTF-8). */
export function decodeName(b: Buffer): string {
  const s = b.toString('utf8');
  if (!s.includes('\uFFFD')) return s;
  let out = '';
  let i = 0;
  while (i < b.length) {
    const n = validSequence(b, i);
    if (n === 0) {
      decodedEscapes = true;
      out += String.fromCharCode(0xdc00 + b[i]!);
      i++;
    } else {
      out += b.toString('utf8', i, i + n);
      i += n;
    }
  }
  return out;
}

/** Length of the valid UTF-8 sequence at `i` (the WHATWG decoder's rules), or 0. */
function validSequence(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const [n, lo, hi] =
    c >= 0xc2 && c <= 0xdf
      ? [2, 0x80, 0xbf]
      : c === 0xe0
        ? [3, 0xa0, 0xbf]
        : c === 0xed
          ? [3, 0x80, 0x9f]
          : c >= 0xe1 && c <= 0xef
            ? [3, 0x80, 0xbf]
            : c === 0xf0
              ? [4, 0x90, 0xbf]
              : c === 0xf4
                ? [4, 0x80, 0x8f]
                : c >= 0xf1 && c <= 0xf3
                  ? [4, 0x80, 0xbf]
                  : [0, 0, 0];
  if (n === 0 || i + n > b.length) return 0;
  const second = b[i + 1]!;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  return n;
}

/** The bytes of an escaped string: UTF-8, each escape its own byte again. */
export function nameBytes(s: string): Buffer {
  if (!hasEscapes(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A low surrogate after a high one is half of a real character, not an escape.
    const paired = i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff;
    if (c >= 0xdc80 && c <= 0xdcff && !paired) {
      parts.push(Buffer.from(run, 'utf8'), Buffer.from([c - 0xdc00]));
      run = '';
    } else run += s[i];
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** True when `p` holds escapes: it cannot be passed as a string (a child process's argument). */
export function hasEscapes(p: string): boolean {
  return decodedEscapes && ESCAPED.test(p);
}

/** What to hand fs for a path that may hold escapes: the string itself unless it does. */
export function fsPath(p: string): string | Buffer {
  return hasEscapes(p) ? nameBytes(p) : p;
}

/** readdir(3)'s names, escaped where they are not UTF-8 (the plain listing unless one has U+FFFD). */
export function readdirNames(dir: string): string[] {
  const names = readdirSync(fsPath(dir));
  if (!names.some((n) => n.includes('\uFFFD'))) return names;
  return readdirSync(fsPath(dir), { encoding: 'buffer' }).map(decodeName);
}

/** readdirNames with each entry's Dirent (its type without an lstat). */
export function readdirDirents(dir: string): [name: string, e: Dirent | Dirent<Buffer>][] {
  const plain = readdirSync(fsPath(dir), { withFileTypes: true });
  if (!plain.some((e) => e.name.includes('\uFFFD'))) return plain.map((e) => [e.name, e]);
  return readdirSync(fsPath(dir), { withFileTypes: true, encoding: 'buffer' }).map((e) => [
    decodeName(e.name),
    e,
  ]);
}

/** A symlink's target, escaped where it is not UTF-8. */
export function readlinkName(p: string): string {
  return decodeName(readlinkSync(fsPath(p), { encoding: 'buffer' }));
}

/** The fs calls the copy and the context walk make, on paths that may hold escapes. */
export const nfs = {
  lstat: (p: string): Stats => lstatSync(fsPath(p)),
  lstatIfAny: (p: string): Stats | undefined => lstatSync(fsPath(p), { throwIfNoEntry: false }),
  mkdir: (p: string, mode: number): void => void mkdirSync(fsPath(p), { mode }),
  mkdirp: (p: string, mode: number): void => void mkdirSync(fsPath(p), { recursive: true, mode }),
  chmod: (p: string, mode: number): void => chmodSync(fsPath(p), mode),
  lchown: (p: string, uid: number, gid: number): void => lchownSync(fsPath(p), uid, gid),
  utimes: (p: string, atime: number | Date, mtime: number | Date): void =>
    utimesSync(fsPath(p), atime, mtime),
  lutimes: (p: string, atime: number | Date, mtime: number | Date): void =>
    lutimesSync(fsPath(p), atime, mtime),
  rm: (p: string): void => rmSync(fsPath(p), { force: true }),
  symlink: (target: string, p: string): void => symlinkSync(fsPath(target), fsPath(p)),
  link: (existing: string, p: string): void => linkSync(fsPath(existing), fsPath(p)),
  open: (p: string, flags: string | number, mode?: number): number => openSync(fsPath(p), flags, mode),
  copyFile: (src: string, dest: string): void => copyFileSync(fsPath(src), fsPath(dest)),
  writeEmpty: (p: string): void => writeFileSync(fsPath(p), ''),
};
