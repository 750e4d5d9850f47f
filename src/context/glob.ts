// COPY/ADD source wildcards, as BuildKit's copy (fsutil) reads them.

/**
 * fsutil's containsWildcards: a `*`, `?` or `[`; a backslash skips the next character and is no
 * wildcard itself, so `back\slash` and `a\*` are plain paths.
 */
export function hasWildcard(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/** A pattern Go's path.Match refuses (ErrBadPattern, "syntax error in pattern"): see globToRegExp. */
export function isBadGlob(pattern: string): boolean {
  return translate(pattern) === undefined;
}

/**
 * Go's path.Match as a RegExp for a whole slash path: `*` and `?` never match `/`, `\c` is `c`,
 * `[...]` holds characters and `lo-hi` ranges (either escaped with `\`), negated by a leading
 * `^`. As in Go, a class is malformed when it is empty or unterminated or has an unescaped `-` or
 * `]` where a character belongs (`[]a]`, `[-a]`, `[a-]`), and so is a trailing `\`: such a pattern
 * matches nothing here (isBadGlob tells it apart).
 */
export function globToRegExp(pattern: string): RegExp {
  const re = translate(pattern);
  return re === undefined ? /(?!)/ : new RegExp(`^${re}$`, 'u');
}

function translate(pattern: string): string | undefined {
  const chars = [...pattern];
  let re = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      if (++i >= chars.length) return undefined;
      re += literal(chars[i] as string);
    } else if (ch === '[') {
      const cls = parseClass(chars, i + 1);
      if (!cls) return undefined;
      re += cls.re;
      i = cls.end;
    } else re += literal(ch);
  }
  return re;
}

/** A class from just after its `[`, as Go's matchChunk reads it; undefined when malformed. */
function parseClass(chars: string[], start: number): { re: string; end: number } | undefined {
  let i = start;
  let re = '[';
  if (chars[i] === '^') {
    re += '^';
    i++;
  }
  for (let n = 0; ; n++) {
    if (chars[i] === ']' && n > 0) return { re: `${re}]`, end: i };
    const lo = classChar(chars, i);
    if (!lo) return undefined;
    i = lo.next;
    let hi = lo;
    if (chars[i] === '-') {
      const h = classChar(chars, i + 1);
      if (!h) return undefined;
      i = h.next;
      hi = h;
    }
    // A range Go reads backwards (`z-a`) matches nothing; a RegExp would not even compile.
    if (hi.cp >= lo.cp) re += hi === lo ? lo.re : `${lo.re}-${hi.re}`;
  }
}

/** Go's getEsc: one class character (maybe escaped), never a bare `-` or `]`, never the last. */
function classChar(chars: string[], at: number): { re: string; cp: number; next: number } | undefined {
  let i = at;
  if (i >= chars.length || chars[i] === '-' || chars[i] === ']') return undefined;
  if (chars[i] === '\\' && ++i >= chars.length) return undefined;
  const ch = chars[i] as string;
  if (i + 1 >= chars.length) return undefined;
  return { re: /[\\\][^-]/.test(ch) ? `\\${ch}` : ch, cp: ch.codePointAt(0) as number, next: i + 1 };
}

/** A character matched as itself (escaped where it is regex syntax; unicode-mode rules). */
function literal(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}
