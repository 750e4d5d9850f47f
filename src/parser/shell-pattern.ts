/**
 * Shell patterns (`*`, `?`, `\x`) for `${v#p}`, `${v%p}`, `${v/p/r}`, converted to regular expressions the
 * way BuildKit does (convertShellPatternToRegex): `*` is lazy unless greedy, `?` is any one character,
 * a backslash escapes only `*`, `?` and `\` (and `}` which is dropped), every other regex metachar is
 * literal. Bracket expressions are not supported (BuildKit neither): `[` is literal.
 */
export class ShellPatternError extends Error {}

const META = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$', '/']);

export function shellPatternToRegex(
  pattern: string,
  greedy: boolean,
  anchored: boolean,
  global = false,
): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '[^]*' : '[^]*?';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') out += star;
    else if (c === '?') out += '[^]';
    else if (c === '\\') {
      const n = chars[i + 1];
      if (n === '}') continue;
      if (n !== '*' && n !== '?' && n !== '\\') {
        throw new ShellPatternError(`invalid escape '\\${n ?? ''}'`);
      }
      out += `\\${n}`;
      i++;
    } else if (META.has(c)) out += `\\${c}`;
    else out += c;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function reverse(s: string): string {
  return Array.from(s).reverse().join('');
}

/** Reverses a pattern keeping `\x` escapes in front of what they escape. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const tokens: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      tokens.push(chars[i]! + chars[i + 1]!);
      i++;
    } else tokens.push(chars[i]!);
  }
  return tokens.reverse().join('');
}

/** `${v#p}` / `${v##p}`: remove the shortest / longest matching prefix. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** `${v%p}` / `${v%%p}`: a regex cannot find the shortest rightmost match, so reverse both sides. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}
