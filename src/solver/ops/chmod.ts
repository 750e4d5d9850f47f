import { TsbuildError } from '../../errors.js';

/**
 * `--chmod` values: octal (`755`) or symbolic (`u+x,go=r`, as chmod(1) and Go's dchapes-mode):
 * returns the new mode bits for a path with mode `mode`. An octal value replaces the permission
 * bits only and the source keeps its setuid/setgid/sticky bits: BuildKit's copy does
 * `m = (fi.Mode() &^ 0777) | mode&0777` (Go's special bits are not 0o7000), so `--chmod=4755` on a
 * 0644 file gives 0755 and `--chmod=755` on a 4755 file gives 4755 (observed on dockerd 20.10).
 */
export function applyChmod(spec: string, mode: number, isDir: boolean): number {
  if (/^[0-7]+$/.test(spec)) return (mode & 0o7000) | (Number.parseInt(spec, 8) & 0o777);
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
