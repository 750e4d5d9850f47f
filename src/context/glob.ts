/**
 * Go's path.Match for COPY/ADD source wildcards: `*` and `?` never cross `/`, `[...]` classes with
 * `^` negation, `\` escapes. Returns a RegExp for a whole slash path.
 */
export function hasWildcard(p: string): boolean {
  // fsutil's containsWildcards: a backslash skips the next character and is no wildcard itself, so
  // `back\slash` and `a\*` are plain paths.
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\' && i + 1 < chars.length) re += escapeRe(chars[++i] as string);
    else if (ch === '[') {
      const end = findClassEnd(chars, i);
      if (end < 0) re += '\\[';
      else {
        let body = chars.slice(i + 1, end).join('');
        if (body.startsWith('^')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\//g, '')}]`;
        i = end;
      }
    } else re += escapeRe(ch);
  }
  return new RegExp(`${re}$`, 'u');
}

function findClassEnd(chars: string[], start: number): number {
  let i = start + 1;
  if (chars[i] === '^') i++;
  if (chars[i] === ']') i++;
  for (; i < chars.length; i++) {
    if (chars[i] === '\\') i++;
    else if (chars[i] === ']') return i;
  }
  return -1;
}

function escapeRe(ch: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(ch) ? `\\${ch}` : ch;
}
