import { TsbuildError } from '../../errors.js';

/**
 * `--chmod` values: octal (`755`) or symbolic (`u+x,go=r`, as chmod(1) and Go's dchapes-mode):
 * returns the new permission bits (incl. setuid/setgid/sticky) for a path with mode `mode`.
 */
export function applyChmod(spec: string, mode: number, isDir: boolean): number {
  if (/^[0-7]+$/.test(spec)) return Number.parseInt(spec, 8) & 0o7777;
  let m = mode & 0o7777;
  for (const clause of spec.split(',')) {
    const cm = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/.exec(clause);
    if (!cm) throw new TsbuildError('INVALID_CHMOD', `invalid chmod parameter: '${spec}'`);
    const who = cm[1] || 'a';
    const mask =
      (who.includes('u') || who.includes('a') ? 0o4700 : 0) |
      (who.includes('g') || who.includes('a') ? 0o2070 : 0) |
      (who.includes('o') || who.includes('a') ? 0o1007 : 0);
    for (const [, op, perms] of (cm[2] as string).matchAll(/([-+=])([rwxXstugo]*)/g)) {
      let bits = 0;
      for (const p of perms as string) {
        if (p === 'r') bits |= 0o444;
        else if (p === 'w') bits |= 0o222;
        else if (p === 'x') bits |= 0o111;
        else if (p === 'X') bits |= isDir || (m & 0o111) !== 0 ? 0o111 : 0;
        else if (p === 's') bits |= 0o6000;
        else if (p === 't') bits |= 0o1000;
        else {
          const src = p === 'u' ? (m >> 6) & 7 : p === 'g' ? (m >> 3) & 7 : m & 7;
          bits |= (src << 6) | (src << 3) | src;
        }
      }
      bits &= mask;
      if (op === '+') m |= bits;
      else if (op === '-') m &= ~bits;
      else m = (m & ~mask) | bits;
    }
  }
  return m;
}
