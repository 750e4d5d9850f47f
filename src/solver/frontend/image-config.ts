import type { ContainerConfig, HistoryEntry, ImageConfig, Platform } from '../../oci/index.js';

/** The image config a stage carries while it is dispatched (BuildKit's dispatchState.image). */
export interface StageImage {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  author?: string;
  config: ContainerConfig;
  history: HistoryEntry[];
  /** diff_ids of the base image (the exporter appends the new layers' own). */
  baseDiffIds: string[];
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

/** BuildKit's emptyImage: what `FROM scratch` starts with. */
export function emptyImage(p: Platform): StageImage {
  const img: StageImage = {
    architecture: p.architecture,
    os: p.os,
    config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' },
    history: [],
    baseDiffIds: [],
  };
  if (p.variant) img.variant = p.variant;
  return img;
}

/**
 * The fields of BuildKit's image structs (image-spec's Image and ImageConfig, dockerfile2llb's
 * Healthcheck, ArgsEscaped, OnBuild, StopTimeout, Shell), in their order. A base image's config goes
 * through Go's json round trip there: other keys (Hostname, Tty, MacAddress, a registry's own) are
 * dropped, and so are the `omitempty` ones that are null, empty or false.
 */
const CONFIG_KEYS = [
  'User',
  'ExposedPorts',
  'Env',
  'Entrypoint',
  'Cmd',
  'Volumes',
  'WorkingDir',
  'Labels',
  'StopSignal',
  'ArgsEscaped',
  'Healthcheck',
  'OnBuild',
  'StopTimeout',
  'Shell',
] as const;
const HEALTHCHECK_KEYS = ['Test', 'Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const;
const HISTORY_KEYS = ['created', 'created_by', 'author', 'comment', 'empty_layer'] as const;

/** Go's omitempty: the zero value of the field's type, or JSON null. */
function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === false || v === 0) return true;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

/** `keys` of `o` (nothing of what is no JSON object: a hostile config gets no TypeError here). */
function pick<K extends string>(o: unknown, keys: readonly K[], keep: (k: K) => boolean) {
  const out: Record<string, unknown> = {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return out;
  const r = o as Record<string, unknown>;
  for (const k of keys) if (k in r && (keep(k) || !isEmpty(r[k]))) out[k] = structuredClone(r[k]);
  return out;
}

/** A base's config as BuildKit reads it into its structs (pointers: `{}` and a 0 StopTimeout stay). */
function knownConfig(c: ContainerConfig = {}): ContainerConfig {
  const pointers: Record<string, string> = { Healthcheck: 'object', StopTimeout: 'number' };
  const out = pick(c, CONFIG_KEYS, (k) => {
    const v = (c as Record<string, unknown>)[k];
    return pointers[k] !== undefined && v !== null && typeof v === pointers[k];
  });
  const h = out.Healthcheck;
  if (h !== null && typeof h === 'object' && !Array.isArray(h))
    out.Healthcheck = pick(h, HEALTHCHECK_KEYS, () => false);
  else delete out.Healthcheck;
  return out as ContainerConfig;
}

/** A pulled base image's config as a stage starts from it (`created` dropped, as BuildKit does). */
export function fromImageConfig(c: ImageConfig): StageImage {
  const img: StageImage = {
    architecture: c.architecture,
    os: c.os,
    config: knownConfig(c.config),
    history: (Array.isArray(c.history) ? c.history : []).map((h) => {
      const out = pick(h, HISTORY_KEYS, () => false) as HistoryEntry;
      if (typeof out.created === 'string') out.created = goTime(out.created);
      return out;
    }),
    baseDiffIds: [...(c.rootfs?.diff_ids ?? [])],
  };
  if (c['os.version']) img['os.version'] = c['os.version'];
  if (c['os.features']?.length) img['os.features'] = [...c['os.features']];
  if (c.variant) img.variant = c.variant;
  if (c.author) img.author = c.author;
  return img;
}

export function cloneImage(i: StageImage): StageImage {
  return structuredClone(i);
}

/** BuildKit's commitToHistory: `# buildkit` marks entries made by a state change (RUN/COPY/ADD). */
export function commitToHistory(img: StageImage, msg: string, withLayer: boolean, byState: boolean): void {
  img.history.push({
    created_by: byState ? `${msg} # buildkit` : msg,
    comment: HISTORY_COMMENT,
    ...(withLayer ? {} : { empty_layer: true }),
  });
}

/** BuildKit's addEnv: replace the first entry with the key, else append. */
export function addEnv(env: string[] | undefined, k: string, v: string): string[] {
  const out = [...(env ?? [])];
  const i = out.findIndex((e) => e.split('=', 1)[0] === k);
  if (i >= 0) out[i] = `${k}=${v}`;
  else out.push(`${k}=${v}`);
  return out;
}

export function envGet(env: string[] | undefined, k: string): string | undefined {
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    const key = i < 0 ? e : e.slice(0, i);
    if (key === k) return i < 0 ? '' : e.slice(i + 1);
  }
  return undefined;
}

/** Go's %q of a string (strconv.Quote) for the ASCII-printable cases, JSON-like otherwise. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u007f/g, '\\x7f');
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(a: string[]): string {
  return `[${a.map(goQuote).join(' ')}]`;
}

/** Go's %v of a []string: `[a b]`. */
export function goList(a: string[]): string {
  return `[${a.join(' ')}]`;
}

/**
 * Go's time.RFC3339Nano, as times come out of BuildKit's JSON round trip: no trailing zeros in the
 * fraction (no dot when it is all zeros); the zone (`Z` or an offset) kept.
 */
export function goTime(rfc3339: string): string {
  return rfc3339.replace(/\.(\d*?)0*(Z|[+-]\d\d:\d\d)$/, (_, f: string, zone: string) =>
    f ? `.${f}${zone}` : zone,
  );
}

/** Go's time.Duration String() for a duration in nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e3) out = `${n}ns`;
  else if (n < 1e6) out = `${trimFloat(n / 1e3)}µs`;
  else if (n < 1e9) out = `${trimFloat(n / 1e6)}ms`;
  else {
    const h = Math.floor(n / 3.6e12);
    n -= h * 3.6e12;
    const m = Math.floor(n / 6e10);
    n -= m * 6e10;
    const s = trimFloat(n / 1e9);
    out = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  }
  return neg ? `-${out}` : out;
}

function trimFloat(x: number): string {
  return String(Number(x.toFixed(9)));
}

/** Go's %q of an integer: a quoted rune literal (`'\x02'`, `'A'`). */
export function goRune(n: number): string {
  const esc: Record<number, string> = {
    7: '\\a',
    8: '\\b',
    9: '\\t',
    10: '\\n',
    11: '\\v',
    12: '\\f',
    13: '\\r',
    39: "\\'",
    92: '\\\\',
  };
  if (esc[n]) return `'${esc[n]}'`;
  if (n >= 0x20 && n < 0x7f) return `'${String.fromCharCode(n)}'`;
  if (n < 0x80) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  return `'\\u${n.toString(16).padStart(4, '0')}'`;
}

/** A copy with keys sorted, as Go marshals maps (so config JSON and digests match BuildKit's). */
export function sortedKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k] as T;
  return out;
}

/**
 * Go's `omitempty` on the image config's fields (image-spec's ImageConfig, BuildKit's Shell):
 * `USER $UNSET` (or a base image's `"User": ""`) leaves no `User` key in BuildKit's image config,
 * rather than an empty one; `CMD []`, `ENTRYPOINT []` and an `EXPOSE` of words that expand to
 * nothing leave no `Cmd`, `Entrypoint` or `ExposedPorts`. Applied to the target's config only: a
 * stage built FROM another sees its in-memory config, where `CMD []` is still set (as in BuildKit).
 */
export function omitEmpty(img: StageImage): void {
  const c = img.config;
  if (c.User === '') delete c.User;
  if (c.WorkingDir === '') delete c.WorkingDir;
  if (c.StopSignal === '') delete c.StopSignal;
  for (const k of ['Env', 'Cmd', 'Entrypoint', 'Shell'] as const) if (c[k]?.length === 0) delete c[k];
  for (const k of ['ExposedPorts', 'Volumes', 'Labels'] as const)
    if (c[k] && Object.keys(c[k]).length === 0) delete c[k];
}
