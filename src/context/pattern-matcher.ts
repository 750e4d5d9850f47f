import { posix } from 'node:path';
import { TsbuildError } from '../errors.js';

/**
 * A port of moby/patternmatcher (the `.dockerignore` matcher of Docker and BuildKit), kept to its
 * exact semantics: Go's `filepath.Clean` on each pattern, `!` exclusions evaluated in order, `**`
 * spanning directories, `*`/`?` not crossing `/`, and the exact/prefix/suffix/regexp shortcuts.
 */
type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

export interface Pattern {
  readonly cleaned: string;
  readonly dirs: string[];
  readonly exclusion: boolean;
  readonly type: MatchType;
  readonly regexp?: RegExp;
}

/** Per-pattern match results of a parent directory, to pass down while walking. */
export type MatchInfo = boolean[];

export class PatternError extends TsbuildError {
  constructor(message: string) {
    super('DOCKERIGNORE_PATTERN', message, { hint: 'fix the pattern in .dockerignore' });
  }
}

/** Go's filepath.Clean for slash paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  let c = posix.normalize(p);
  if (c.length > 1 && c.endsWith('/')) c = c.slice(0, -1);
  return c;
}

/** Go's filepath.Dir: everything before the last slash, cleaned ("a/b/" → "a/b"). */
export function goDir(p: string): string {
  const i = p.lastIndexOf('/');
  return cleanPath(p.slice(0, i + 1));
}

const ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/** Go's filepath.Match syntax check: returns an error message for a malformed pattern. */
export function checkGlobSyntax(p: string): string | undefined {
  const chars = [...p];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '\\') {
      if (i + 1 >= chars.length) return 'syntax error in pattern';
      i++;
    } else if (ch === '[') {
      i++;
      if (chars[i] === '^') i++;
      let n = 0;
      for (;;) {
        if (i >= chars.length) return 'syntax error in pattern';
        if (chars[i] === ']' && n > 0) break;
        const lo = readEsc(chars, i);
        if (lo < 0) return 'syntax error in pattern';
        i = lo;
        if (chars[i] === '-') {
          const hi = readEsc(chars, i + 1);
          if (hi < 0) return 'syntax error in pattern';
          i = hi;
        }
        n++;
      }
    }
  }
  return undefined;
}

/** Go's getEsc: index after one class character, or -1 when malformed. */
function readEsc(chars: string[], i: number): number {
  const c = chars[i];
  if (c === undefined || c === '-' || c === ']') return -1;
  if (c === '\\') return chars[i + 1] === undefined ? -1 : i + 2;
  return i + 1;
}

function compile(cleaned: string): { type: MatchType; regexp?: RegExp } {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = [...cleaned];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') {
      const start = i;
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        // Go checks its loop counter: only a `**` that starts the pattern makes a suffix match.
        if (start === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ESCAPE.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      if (i + 1 < chars.length) {
        i++;
        re += `\\${chars[i]}`;
        type = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  if (type === 'regexp') {
    try {
      // 'u' so a class or `?` takes a whole code point, as Go's regexp does on UTF-8.
      return { type, regexp: new RegExp(`${re}$`, 'u') };
    } catch {
      try {
        return { type, regexp: new RegExp(`${re}$`) };
      } catch {
        throw new PatternError(`invalid pattern ${JSON.stringify(cleaned)}`);
      }
    }
  }
  return { type };
}

function matchOne(p: Pattern, path: string): boolean {
  switch (p.type) {
    case 'exact':
      return path === p.cleaned;
    case 'prefix':
      return path.startsWith(p.cleaned.slice(0, -2));
    case 'suffix': {
      const suffix = p.cleaned.slice(2);
      if (path.endsWith(suffix)) return true;
      return suffix[0] === '/' && path === suffix.slice(1);
    }
    case 'regexp':
      return p.regexp?.test(path) ?? false;
  }
}

export class PatternMatcher {
  readonly patterns: Pattern[] = [];
  readonly exclusions: boolean = false;

  constructor(patterns: string[]) {
    for (let raw of patterns) {
      raw = raw.trim();
      if (raw === '') continue;
      let p = cleanPath(raw);
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) throw new PatternError('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
        this.exclusions = true;
      }
      const err = checkGlobSyntax(p);
      if (err) throw new PatternError(`${err}: ${JSON.stringify(raw)}`);
      const { type, regexp } = compile(p);
      const pat: Pattern = { cleaned: p, dirs: p.split('/'), exclusion, type };
      if (regexp) (pat as { regexp?: RegExp }).regexp = regexp;
      this.patterns.push(pat);
    }
  }

  /** moby's MatchesExact: no parent matching. */
  matchesExact(file: string): boolean {
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      if (matchOne(p, file)) matched = !p.exclusion;
    }
    return matched;
  }

  /** moby's MatchesOrParentMatches: `file` or one of its parents matches, and no later `!` undoes it. */
  matchesOrParentMatches(file: string): boolean {
    let matched = false;
    const parent = goDir(file);
    const parentDirs = parent.split('/');
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let m = matchOne(p, file);
      if (!m && parent !== '.') {
        for (let i = 0; i < parentDirs.length && !m; i++)
          m = matchOne(p, parentDirs.slice(0, i + 1).join('/'));
      }
      if (m) matched = !p.exclusion;
    }
    return matched;
  }

  /** moby's MatchesUsingParentResults: the walker passes the parent directory's MatchInfo down. */
  matchesUsingParentResults(
    file: string,
    parent: MatchInfo | undefined,
  ): { matched: boolean; info: MatchInfo } {
    const info: MatchInfo = new Array(this.patterns.length).fill(false);
    let matched = false;
    for (let i = 0; i < this.patterns.length; i++) {
      const p = this.patterns[i] as Pattern;
      let m = parent && parent.length > 0 ? (parent[i] ?? false) : false;
      if (!m) {
        if (p.exclusion !== matched) continue;
        m = matchOne(p, file);
        if (!m && (!parent || parent.length === 0)) {
          const dir = goDir(file);
          if (dir !== '.') {
            const dirs = dir.split('/');
            for (let j = 0; j < dirs.length && !m; j++) m = matchOne(p, dirs.slice(0, j + 1).join('/'));
          }
        }
      }
      info[i] = m;
      if (m) matched = !p.exclusion;
    }
    return { matched, info };
  }
}
