/**
 * The JSON types of an image config's fields, as Go's encoding/json holds BuildKit's frontend to
 * them (ocispecs.ImageConfig plus Docker's Healthcheck, OnBuild, Shell): a base image whose
 * `config.Env` is a string fails there ("cannot unmarshal string into ... config.Env of type
 * []string") and must fail here with its name, not deep in a step. `null` is Go's zero value.
 */
type Kind = 'string' | 'strings' | 'set' | 'labels' | 'bool' | 'object' | 'number' | 'list' | 'time';

const CONFIG: Record<string, Kind> = {
  User: 'string',
  ExposedPorts: 'set',
  Env: 'strings',
  Entrypoint: 'strings',
  Cmd: 'strings',
  Volumes: 'set',
  WorkingDir: 'string',
  Labels: 'labels',
  StopSignal: 'string',
  ArgsEscaped: 'bool',
  Healthcheck: 'object',
  OnBuild: 'strings',
  StopTimeout: 'number',
  Shell: 'strings',
};

const HEALTHCHECK: Record<string, Kind> = {
  Test: 'strings',
  Interval: 'number',
  Timeout: 'number',
  StartPeriod: 'number',
  StartInterval: 'number',
  Retries: 'number',
};

const TOP: Record<string, Kind> = {
  created: 'time',
  author: 'string',
  variant: 'string',
  'os.version': 'string',
  'os.features': 'strings',
  config: 'object',
  history: 'list',
};

const HISTORY: Record<string, Kind> = {
  created: 'time',
  created_by: 'string',
  author: 'string',
  comment: 'string',
  empty_layer: 'bool',
};

const NAMES: Record<Kind, string> = {
  string: 'a string',
  strings: 'a list of strings',
  set: 'an object of objects',
  labels: 'an object of strings',
  bool: 'true or false',
  object: 'an object',
  number: 'an integer',
  list: 'a list',
  time: 'an RFC 3339 time',
};

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * What Go's time.Time takes from JSON (RFC 3339: `2006-01-02T15:04:05.999Z07:00`, each field in
 * range): a base image with any other `created` fails BuildKit's frontend ("parsing time ...").
 */
function isRfc3339(v: string): boolean {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-](\d\d):(\d\d))$/.exec(v);
  if (!m) return false;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as number[] as [number, ...number[]];
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = mo === 2 && !leap ? 28 : (DAYS[mo - 1] ?? 0);
  const tz = m[9] === undefined || (Number(m[9]) < 24 && Number(m[10]) < 60);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days && h < 24 && mi < 60 && sec < 60 && tz;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function fits(v: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string' || x === null);
    case 'labels':
      return isObject(v) && Object.values(v).every((x) => typeof x === 'string' || x === null);
    case 'set':
      return isObject(v) && Object.values(v).every((x) => isObject(x) || x === null);
    case 'object':
      return isObject(v);
    case 'bool':
      return typeof v === 'boolean';
    case 'number':
      return typeof v === 'number' && Number.isInteger(v);
    case 'list':
      return Array.isArray(v);
    case 'time':
      return typeof v === 'string' && isRfc3339(v);
  }
}

function check(o: Record<string, unknown>, fields: Record<string, Kind>, at: string): string | undefined {
  for (const [name, kind] of Object.entries(fields)) {
    const v = o[name];
    if (v !== null && v !== undefined && !fits(v, kind)) {
      const shown =
        typeof v === 'string' && v.startsWith(FRACTION) ? v.slice(FRACTION.length) : JSON.stringify(v);
      return `${at}${name} is ${shown.slice(0, 40)}, where ${NAMES[kind]} belongs`;
    }
  }
  return undefined;
}

// Every key Go's decoder knows at each level (ocispecs.Image and what BuildKit adds), to fold.
const TOP_KEYS = [...Object.keys(TOP), 'architecture', 'os', 'rootfs'];
const ROOTFS_KEYS = ['type', 'diff_ids'];

/** Go's case folding of a key for encoding/json's field match (bytes.EqualFold: K and s too). */
const fold = (k: string) =>
  k
    .replace(/\u212a/g, 'k')
    .replace(/\u017f/g, 's')
    .toLowerCase();

/**
 * `o` with each key that names a field only up to case renamed to the field, as Go's encoding/json
 * matches object keys to struct fields (an exact match first, else a case-insensitive one: a base
 * image's `"env"` or `"CMD"` is BuildKit's Env or Cmd). Keys are taken in order, so a later key for
 * the same field wins, and objects (Labels, ExposedPorts, Volumes, Healthcheck) merge, as Go decodes
 * into the map or struct already there. Other keys stay as they are.
 */
function foldKeys(o: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const byFold = new Map(fields.map((f) => [fold(f), f]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const name = fields.includes(k) ? k : (byFold.get(fold(k)) ?? k);
    const had = out[name];
    out[name] = isObject(had) && isObject(v) ? { ...had, ...v } : v;
  }
  return out;
}

/** An image config's keys folded to BuildKit's field names at every level it reads (foldKeys). */
export function foldConfigKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const o = foldKeys(raw, TOP_KEYS);
  if (isObject(o.config)) {
    const c = foldKeys(o.config, Object.keys(CONFIG));
    if (isObject(c.Healthcheck)) c.Healthcheck = foldKeys(c.Healthcheck, Object.keys(HEALTHCHECK));
    o.config = c;
  }
  if (isObject(o.rootfs)) o.rootfs = foldKeys(o.rootfs, ROOTFS_KEYS);
  if (Array.isArray(o.history))
    o.history = o.history.map((h) => (isObject(h) ? foldKeys(h, Object.keys(HISTORY)) : h));
  return o;
}

/**
 * A type-checked config with Go's decoding of what it holds: a null list element or label value is
 * "" (the string's zero value) and an ExposedPorts or Volumes value is `{}` whatever object it was
 * (Go's struct{}), as BuildKit then writes them.
 */
export function zeroConfigValues(o: Record<string, unknown>): void {
  const zero = (c: Record<string, unknown> | null | undefined, fields: Record<string, Kind>) => {
    if (!c) return;
    for (const [name, kind] of Object.entries(fields)) {
      const v = c[name];
      if (kind === 'strings' && Array.isArray(v)) c[name] = v.map((x) => x ?? '');
      else if ((kind === 'labels' || kind === 'set') && isObject(v))
        c[name] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, kind === 'set' ? {} : (x ?? '')]));
    }
  };
  zero(o, TOP);
  const c = o.config as Record<string, unknown> | null | undefined;
  zero(c, CONFIG);
  zero(c?.Healthcheck as Record<string, unknown> | null | undefined, HEALTHCHECK);
}

/** The first field of the wrong type, described, or undefined when every field has its type. */
export function configFieldError(o: Record<string, unknown>): string | undefined {
  const top = check(o, TOP, '');
  if (top) return top;
  const c = o.config as Record<string, unknown> | null | undefined;
  const inner = c ? check(c, CONFIG, 'config.') : undefined;
  if (inner) return inner;
  const hc = c?.Healthcheck as Record<string, unknown> | null | undefined;
  const health = hc ? check(hc, HEALTHCHECK, 'config.Healthcheck.') : undefined;
  if (health) return health;
  for (const [i, h] of ((o.history as unknown[] | null | undefined) ?? []).entries()) {
    if (h === null) continue;
    const e = isObject(h) ? check(h, HISTORY, `history[${i}].`) : `history[${i}] is not an object`;
    if (e) return e;
  }
  return undefined;
}

// Marks a number literal with a fraction or exponent, which JSON.parse would make an integer (`3.0`).
const FRACTION = '\u0000number:';

/**
 * The config text with every number literal that has a fraction or exponent turned into a marked
 * string, so the field checks see what Go sees: its decoder refuses `3.0` or `1e9` for an int field
 * (Healthcheck durations, Retries, StopTimeout), "cannot unmarshal number 3.0 into ... of type int".
 * `untagNumbers` turns what no check refused back into numbers.
 */
export function tagFractionalNumbers(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (tok) =>
    tok.startsWith('"') || !/[.eE]/.test(tok) ? tok : JSON.stringify(FRACTION + tok),
  );
}

/** Marked number literals (tagFractionalNumbers) back to numbers, in place. */
export function untagNumbers(v: unknown): unknown {
  if (typeof v === 'string' && v.startsWith(FRACTION)) return Number(v.slice(FRACTION.length));
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = untagNumbers(v[i]);
  else if (isObject(v)) for (const k of Object.keys(v)) v[k] = untagNumbers(v[k]);
  return v;
}
