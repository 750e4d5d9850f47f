import { TsbuildError } from '../errors.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** "10GB", "512MiB", "1.5g", "1000" → bytes (Docker's go-units: bare k/m/g are binary). */
export function parseSize(input: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new TsbuildError('INVALID_SIZE', `invalid size ${JSON.stringify(input)}`, {
      hint: 'use a number with an optional unit: 512MB, 10GiB, 2g',
    });
  }
  return Math.floor(Number(m[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Go-style durations ("24h", "1h30m", "90s") plus d and w → milliseconds. */
export function parseDuration(input: string): number {
  const s = input.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (s === '' || matched !== s.length) {
    throw new TsbuildError('INVALID_DURATION', `invalid duration ${JSON.stringify(input)}`, {
      hint: 'use a duration such as 24h, 90m, 7d or 1h30m',
    });
  }
  return total;
}

/** `n` bytes scaled by 1000s: the value and its decimal unit, as Docker's go-units does. */
function scaleBytes(n: number): { v: number; unit: string; scaled: boolean } {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return { v, unit: units[i] as string, scaled: i > 0 };
}

/** 1536 → "1.5kB" (decimal units, as `docker system df` prints). */
export function formatBytes(n: number): string {
  const { v, unit, scaled } = scaleBytes(n);
  return `${scaled ? v.toFixed(v < 10 ? 2 : 1) : v}${unit}`;
}

/**
 * The SIZE of `docker images` and `docker history`: go-units HumanSizeWithPrecision(n, 3), i.e.
 * Go's `%.3g` of the value scaled by 1000s ("1.99MB", "12.3kB", "2MB", "999B", "1e+03kB");
 * `precision` 4 is go-units' HumanSize (`docker images`' VirtualSize).
 */
export function formatSize(n: number, precision = 3): string {
  const { v, unit } = scaleBytes(n);
  return `${goG(v, precision)}${unit}`;
}

/** Go's fmt `%.<p>g`: p significant digits, trailing zeros dropped, an exponent from 10^p up. */
function goG(v: number, p: number): string {
  const s = v.toPrecision(p);
  const e = s.indexOf('e');
  const trim = (m: string) => (m.includes('.') ? m.replace(/\.?0+$/, '') : m);
  if (e < 0) return trim(s);
  const exp = Number(s.slice(e + 1));
  return `${trim(s.slice(0, e))}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}
