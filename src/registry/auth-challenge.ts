/** One challenge of a `WWW-Authenticate` header (RFC 7235): scheme and its auth-params. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses `Bearer realm="…",service="…",scope="a b", Basic realm="x"`. Quoted strings may contain
 * commas and escaped quotes; parameter names are case-insensitive; several challenges may follow.
 */
export function parseWwwAuthenticate(value: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = value;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
  };
  const token = () => {
    const start = i;
    while (i < s.length && /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipWs();
    const scheme = token();
    if (!scheme) {
      i++;
      continue;
    }
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    for (;;) {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
      const save = i;
      const name = token();
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
      if (!name || s[i] !== '=') {
        // not a param: a new challenge (or token68) starts here
        i = save;
        if (name && s[i] !== ',') break;
        if (!name) break;
      }
      i++; // '='
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
      let val = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          val += s[i++];
        }
        i++;
      } else {
        const start = i;
        while (i < s.length && s[i] !== ',' && s[i] !== ' ') i++;
        val = s.slice(start, i);
      }
      ch.params[name.toLowerCase()] = val;
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
      if (s[i] === ',') {
        i++;
        continue;
      }
      break;
    }
  }
  return out;
}
