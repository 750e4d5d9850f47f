/** Levenshtein distance (small inputs: keywords and flag names). */
export function levenshtein(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest option within a small edit distance (like BuildKit's suggest package), if any. */
export function suggest(value: string, options: string[], caseSensitive = true): string | undefined {
  if (value === '') return undefined;
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let score = v.length >= 4 ? 3 : 2;
  for (const o of options) {
    const d = levenshtein(v, caseSensitive ? o : o.toLowerCase());
    if (d < score) {
      score = d;
      best = o;
    }
  }
  return best;
}
