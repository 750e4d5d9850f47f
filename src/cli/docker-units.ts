/**
 * How docker's CLI prints times and strings in `docker images` and `docker history`: go-units
 * v0.4.0 (HumanDuration), Go's time formats and docker/cli's formatter.Ellipsis.
 */

/** go-units HumanDuration of `ms` milliseconds ("About an hour", "3 weeks"). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  // go-units rounds hours to the nearest (d.Hours() + 0.5), then divides by whole hours.
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

const MAX_DURATION_MS = 9_223_372_036_854;

/** docker's CreatedSince: "N units ago" for a time in epoch milliseconds ('N/A' for none). */
export function createdSince(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'N/A';
  // Go's Time.Sub saturates at the largest Duration (2^63-1 ns, ~292 years): an entry dated the
  // zero time (year 1) is "292 years ago"
  return `${humanDuration(Math.min(now - ms, MAX_DURATION_MS))} ago`;
}

/** Epoch milliseconds of an RFC 3339 time (undefined for none or garbage). */
export function parseTime(iso: string | undefined): number | undefined {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** Go's time.Time.String() in UTC, as `docker images` prints CreatedAt. */
export function goTimeString(ms: number | undefined): string {
  if (ms === undefined) return 'N/A';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/**
 * Go's time.Unix(sec, 0).Format(time.RFC3339) in the local zone, as `docker history` prints
 * CreatedAt: "2026-12-03T19:46:18Z" in UTC, "2026-12-03T20:46:18+01:00" elsewhere.
 */
export function rfc3339Local(ms: number): string {
  const sec = Math.floor(ms / 1000) * 1000;
  const offset = -new Date(sec).getTimezoneOffset();
  const local = new Date(sec + offset * 60_000).toISOString().slice(0, 19);
  if (offset === 0) return `${local}Z`;
  const abs = Math.abs(offset);
  const hh = String(Math.trunc(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${offset < 0 ? '-' : '+'}${hh}:${mm}`;
}

/**
 * docker/cli's formatter.Ellipsis: `s` cut to `max` display columns, its last one an ellipsis.
 * Wide (East Asian) characters take two columns, combining marks none, as go-runewidth counts.
 */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const runes = [...s];
  if (max === 1) return runes[0] ?? '';
  const widths = runes.map(runeWidth);
  const total = widths.reduce((a, w) => a + w, 0);
  if (total <= max) return s;
  let used = 0;
  let i = 0;
  while (i < runes.length && used + widths[i]! <= max - 1) used += widths[i++]!;
  return `${runes.slice(0, i).join('')}…`;
}

function runeWidth(r: string): number {
  const c = r.codePointAt(0) ?? 0;
  if (/\p{Mn}|\p{Me}|\p{Cf}/u.test(r) || c === 0) return 0;
  return /\p{scx=Han}|\p{scx=Hiragana}|\p{scx=Katakana}|\p{scx=Hangul}/u.test(r) ||
    (c >= 0xff01 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1faff)
    ? 2
    : 1;
}
