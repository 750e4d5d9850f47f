/** `0.4s`, `12.3s` (BuildKit prints one decimal). */
export function formatSeconds(ms: number, digits = 1): string {
  return `${(Math.max(0, ms) / 1000).toFixed(digits)}s`;
}

/** `1.23MB` style (decimal units, as Docker prints). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(2)}${units[i]}`;
}
