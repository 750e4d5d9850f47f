// The seeded generator of the randomized differential scripts (differential.ts, differential-cache.ts).

/** mulberry32: a small seeded PRNG, so a family and seed always give the same cases. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const sample = <T>(xs: readonly T[], k: number): T[] => [...xs].sort(() => next() - 0.5).slice(0, k);
  return { next, pick, int, sample };
}
export type R = ReturnType<typeof rng>;
