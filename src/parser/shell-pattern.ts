/**
 * Shell patterns (`*`, `?`, `\x`) for `${v#p}`, `${v%p}`, `${v/p/r}`, with BuildKit's semantics
 * (convertShellPatternToRegex): `*` any run, `?` any one character, a backslash escapes only `*`, `?`
 * and `\` (and `}`, which it just lets through); everything else, `[` included, is literal.
 *
 * BuildKit compiles them to Go regexps, which run in linear time. JavaScript regexps backtrack, and a
 * hostile `${v//*a*a*a*a*b/}` could hang the build, so this is a small NFA simulation instead:
 * O(len(value) × len(pattern)) for every operation.
 */
export class ShellPatternError extends Error {}

type Token = { kind: 'lit'; ch: string } | { kind: 'any' } | { kind: 'star' };

export function tokenizePattern(pattern: string): Token[] {
  const chars = Array.from(pattern);
  const out: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') out.push({ kind: 'star' });
    else if (c === '?') out.push({ kind: 'any' });
    else if (c === '\\') {
      const n = chars[i + 1];
      if (n === '}') continue;
      if (n !== '*' && n !== '?' && n !== '\\') throw new ShellPatternError(`invalid escape '\\${n ?? ''}'`);
      out.push({ kind: 'lit', ch: n });
      i++;
    } else out.push({ kind: 'lit', ch: c });
  }
  return out;
}

/** Adds state i and, through stars (which may match nothing), the states after it. */
function close(tokens: Token[], set: Set<number>, i: number): void {
  while (!set.has(i)) {
    set.add(i);
    if (tokens[i]?.kind !== 'star') return;
    i++;
  }
}

function step(tokens: Token[], states: Set<number>, ch: string): Set<number> {
  const next = new Set<number>();
  for (const i of states) {
    const t = tokens[i];
    if (!t) continue;
    if (t.kind === 'star') close(tokens, next, i);
    else if (t.kind === 'any' || t.ch === ch) close(tokens, next, i + 1);
  }
  return next;
}

/** Lengths (in characters) of the prefixes of `chars` the whole pattern matches: [shortest, longest]. */
function prefixMatches(tokens: Token[], chars: string[]): [number, number] | undefined {
  let states = new Set<number>();
  close(tokens, states, 0);
  let first = -1;
  let last = -1;
  for (let p = 0; ; p++) {
    if (states.has(tokens.length)) {
      if (first < 0) first = p;
      last = p;
    }
    if (p === chars.length || states.size === 0) break;
    states = step(tokens, states, chars[p]!);
  }
  return first < 0 ? undefined : [first, last];
}

/** `${v#p}` / `${v##p}`: remove the shortest / longest matching prefix. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const chars = Array.from(value);
  const m = prefixMatches(tokenizePattern(pattern), chars);
  return m ? chars.slice(greedy ? m[1] : m[0]).join('') : value;
}

/** `${v%p}` / `${v%%p}`: the same on the reversed value with the reversed pattern. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const chars = Array.from(value).reverse();
  const m = prefixMatches(tokenizePattern(pattern).reverse(), chars);
  return m
    ? chars
        .slice(greedy ? m[1] : m[0])
        .reverse()
        .join('')
    : value;
}

/**
 * The leftmost match at or after `from`, longest at that start (what Go's leftmost-first greedy regexp
 * finds for these patterns). One pass: each NFA state remembers the earliest start that reaches it.
 */
function findMatch(tokens: Token[], chars: string[], from: number): [number, number] | undefined {
  let states = new Map<number, number>();
  let best: [number, number] | undefined;
  const add = (m: Map<number, number>, i: number, start: number) => {
    const tmp = new Set<number>();
    close(tokens, tmp, i);
    for (const s of tmp) if (!m.has(s) || m.get(s)! > start) m.set(s, start);
  };
  for (let p = from; ; p++) {
    if (!best) add(states, 0, p);
    const acc = states.get(tokens.length);
    if (acc !== undefined && (!best || acc < best[0] || (acc === best[0] && p > best[1]))) best = [acc, p];
    if (p === chars.length) break;
    const next = new Map<number, number>();
    for (const [i, start] of states) {
      if (best && start > best[0]) continue;
      const t = tokens[i];
      if (!t) continue;
      if (t.kind === 'star') add(next, i, start);
      else if (t.kind === 'any' || t.ch === chars[p]) add(next, i + 1, start);
    }
    states = next;
    if (best && states.size === 0) break;
  }
  return best;
}

/** `${v/p/r}` (first match) and `${v//p/r}` (every match). An empty pattern changes nothing. */
export function replacePattern(pattern: string, value: string, replacement: string, all: boolean): string {
  const tokens = tokenizePattern(pattern);
  if (tokens.length === 0) return value;
  const chars = Array.from(value);
  let out = '';
  let pos = 0;
  while (pos <= chars.length) {
    const m = findMatch(tokens, chars, pos);
    if (!m) break;
    out += chars.slice(pos, m[0]).join('') + replacement;
    if (m[1] === m[0]) {
      // An empty match: keep one character and move on, or we would loop forever.
      if (m[1] < chars.length) out += chars[m[1]];
      pos = m[1] + 1;
    } else pos = m[1];
    if (!all) break;
  }
  return out + chars.slice(pos).join('');
}
