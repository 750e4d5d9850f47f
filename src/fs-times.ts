/**
 * A file time in seconds as Node's utimes/futimes/lutimes must be given it. Node takes a negative
 * number for "now" (its toUnixTimestamp), so a time before 1970, which a context file may have and
 * COPY keeps (as BuildKit's copy does; its layer then has a PAX `mtime`), goes as a Date, which Node
 * passes on as it is (millisecond precision is all it has then).
 */
export function fsTime(seconds: number): number | Date {
  return seconds < 0 ? new Date(seconds * 1000) : seconds;
}

/** The last second Go's time.Unix(0, MaxInt64) reaches (2262-04-11). */
const MAX_UNIX_SECONDS = 9_223_372_036;

/**
 * An archive entry's time as containerd's layer applier (boundTime) and moby's Untar (Chtimes) set
 * it: before 1970 or past 2262 is the epoch. A layer or ADD archive carries such times as PAX records.
 */
export function boundTime(seconds: number): number {
  return seconds < 0 || seconds > MAX_UNIX_SECONDS ? 0 : seconds;
}
