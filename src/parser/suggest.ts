/** Edit distance with adjacent transpositions (optimal string alignment): `form` → `from` is 1. */
export function levenshtein(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest option within a small edit distance (like BuildKit's suggest package), if any. */
export function suggest(value: string, options: string[], caseSensitive = true): string | undefined {
  if (value === '') return undefined;
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let score = v.length >= 4 ? 3 : 2;
  for (const o of options) {
    // Only the case differs (`--FROM`, `Copyy` aside): that is the one the user meant.
    if (o !== value && o.toLowerCase() === value.toLowerCase()) return o;
    const d = levenshtein(v, caseSensitive ? o : o.toLowerCase());
    if (d < score) {
      score = d;
      best = o;
    }
  }
  return best;
}
