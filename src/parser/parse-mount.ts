import { DockerfileSyntaxError, type SourceRange, UNLOCATED } from '../errors.js';
import { parseGoBool } from './directives.js';
import { type EnvLookup, expandWord, type LexOptions } from './shell-lexer.js';
import { suggest } from './suggest.js';
import type { CacheSharing, MountType, RunMount } from './types.js';

const TYPES = new Set<MountType>(['bind', 'cache', 'tmpfs', 'secret', 'ssh']);
const KEYS = [
  'type',
  'from',
  'source',
  'target',
  'readonly',
  'readwrite',
  'id',
  'sharing',
  'mode',
  'uid',
  'gid',
  'size',
  'required',
  'env',
];

/** BuildKit's suggest.WrapError: the nearest known word, if one is near. */
function withSuggestion(msg: string, value: string, known: string[]): string {
  const v = value.toLowerCase();
  const s = suggest(v, known) ?? (v.length >= 3 ? known.find((k) => k.startsWith(v)) : undefined);
  return s ? `${msg} (did you mean ${s}?)` : msg;
}

/** Go's encoding/csv for one record: `a,"b,c",d`; `""` inside quotes is a quote. */
export function csvFields(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new Error('extraneous or missing " in quoted-field');
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ',') throw new Error('extraneous or missing " in quoted-field');
    } else {
      const j = s.indexOf(',', i);
      field = j < 0 ? s.slice(i) : s.slice(i, j);
      if (field.includes('"')) throw new Error('bare " in non-quoted-field');
      i = j < 0 ? s.length : j;
    }
    out.push(field);
    if (i >= s.length) return out;
    i++; // the comma
  }
}

/** Go's units.RAMInBytes: `64m`, `1g`, `512k`, `100` (binary multiples, optional `b`/`ib`). */
export function ramInBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(v);
  if (!m) return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[
    m[2]!.toLowerCase()
  ]!;
  return Math.floor(Number(m[1]) * mult);
}

export interface ParseMountOptions extends LexOptions {
  range?: SourceRange;
}

/**
 * Parses one `--mount` value (BuildKit's ParseMount). Without `lookup` values stay raw and fields that
 * need a number are only checked when they contain no `$` (the solver re-parses with a lookup at
 * dispatch). With `lookup`, every value is expanded first. Defaults as BuildKit: type bind; bind/
 * secret/ssh read-only unless `rw`; cache id = target; secret id from source or target's base name,
 * target /run/secrets/<id> (unless `env=`); ssh id `default`.
 */
export function parseMount(spec: string, lookup?: EnvLookup, opts: ParseMountOptions = {}): RunMount {
  const b = new MountBuilder(spec, opts.range ?? UNLOCATED, lookup === undefined);
  let fields: string[] = [];
  try {
    fields = csvFields(spec);
  } catch (e) {
    b.fail(`failed to parse mount ${JSON.stringify(spec)}: ${(e as Error).message}`);
  }
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq < 0) {
      b.bare(field.toLowerCase(), field);
      continue;
    }
    let value = field.slice(eq + 1);
    const key = field.slice(0, eq).toLowerCase();
    // `from` is never expanded: BuildKit refuses a variable there (the solver says so)
    if (lookup && key !== 'from')
      value = expandWord(value, lookup, { ...opts, range: opts.range ?? UNLOCATED });
    b.set(key, value, field);
  }
  return finishMount(b.m, b.roAuto, (msg) => b.fail(msg));
}

/** Applies one field at a time, in order (BuildKit checks some keys against the type seen so far). */
class MountBuilder {
  readonly m: RunMount;
  roAuto = true;

  constructor(
    spec: string,
    private readonly range: SourceRange,
    /** No lookup: values with `$` stay raw and are not validated (the solver re-parses them). */
    private readonly deferred: boolean,
  ) {
    this.m = { type: 'bind', readOnly: true, required: false, original: spec };
  }

  fail(msg: string): never {
    throw new DockerfileSyntaxError(msg, this.range);
  }

  private onlyFor(key: string, ...types: MountType[]): void {
    if (!types.includes(this.m.type)) this.fail(`unexpected key '${key}' for mount type '${this.m.type}'`);
  }

  /** A key without `=`: ro/rw/required. */
  bare(key: string, field: string): void {
    if (key === 'readonly' || key === 'ro') this.m.readOnly = true;
    else if (key === 'readwrite' || key === 'rw') this.m.readOnly = false;
    else if (key === 'required') {
      this.onlyFor(key, 'secret', 'ssh');
      this.m.required = true;
      return;
    } else this.fail(`invalid field '${field}' must be a key=value pair`);
    this.roAuto = false;
  }

  set(key: string, value: string, field: string): void {
    const raw = this.deferred && value.includes('$');
    const m = this.m;
    switch (key) {
      case 'type':
        if (!raw && !TYPES.has(value.toLowerCase() as MountType))
          this.fail(withSuggestion(`unsupported mount type ${JSON.stringify(value)}`, value, [...TYPES]));
        m.type = value.toLowerCase() as MountType;
        return;
      case 'from':
        m.from = value;
        return;
      case 'source':
      case 'src':
        m.source = value;
        return;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        return;
      case 'id':
        m.id = value;
        return;
      case 'env':
        this.onlyFor(key, 'secret');
        m.env = value;
        return;
      default:
        this.setTyped(key, value, raw, field);
    }
  }

  /** Keys whose value is a boolean, a number or an enum. */
  private setTyped(key: string, value: string, raw: boolean, field: string): void {
    const m = this.m;
    switch (key) {
      case 'readonly':
      case 'ro':
      case 'readwrite':
      case 'rw': {
        const b = raw ? true : parseGoBool(value);
        if (b === undefined) this.fail(`invalid value for ${key}: ${value}`);
        m.readOnly = key === 'readonly' || key === 'ro' ? b : !b;
        this.roAuto = false;
        return;
      }
      case 'required': {
        this.onlyFor(key, 'secret', 'ssh');
        const b = raw ? false : parseGoBool(value);
        if (b === undefined) this.fail(`invalid value for ${key}: ${value}`);
        m.required = b;
        return;
      }
      case 'sharing': {
        const s = value.toLowerCase();
        if (!raw && s !== 'shared' && s !== 'private' && s !== 'locked')
          this.fail(`unrecognized sharing parameter ${JSON.stringify(value)}`);
        m.sharing = s as CacheSharing;
        return;
      }
      case 'uid':
      case 'gid':
      case 'mode': {
        const n = raw ? undefined : this.num(key, value, key === 'mode' ? 8 : 10);
        if (n !== undefined) m[key] = n;
        return;
      }
      case 'size': {
        this.onlyFor(key, 'tmpfs');
        if (raw) return;
        const n = ramInBytes(value);
        if (n === undefined) this.fail(`invalid value for size: ${JSON.stringify(value)}`);
        m.size = n;
        return;
      }
      default:
        this.fail(withSuggestion(`unexpected key '${key}' in '${field}'`, key, KEYS));
    }
  }

  private num(key: string, value: string, radix: 8 | 10): number {
    const re = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
    const n = Number.parseInt(value, radix);
    if (!re.test(value) || n > 0xffffffff) this.fail(`invalid value for ${key}: ${JSON.stringify(value)}`);
    return n;
  }
}

function finishMount(m: RunMount, roAuto: boolean, fail: (msg: string) => never): RunMount {
  if (!TYPES.has(m.type) && !m.type.includes('$')) fail(`unsupported mount type ${JSON.stringify(m.type)}`);
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.sharing !== undefined && m.type !== 'cache') fail(`invalid cache sharing set for ${m.type} mount`);
  const fileInfo = m.type === 'cache' || m.type === 'secret' || m.type === 'ssh';
  if (!fileInfo) {
    for (const k of ['mode', 'uid', 'gid'] as const)
      if (m[k] !== undefined) fail(`${k} not allowed for ${JSON.stringify(m.type)} type mounts`);
  }
  switch (m.type) {
    case 'bind':
    case 'cache':
    case 'tmpfs':
      if (m.target === undefined || m.target === '') fail(`mount type ${m.type} requires a target`);
      if (m.type === 'cache') {
        m.sharing ??= 'shared';
        m.id ??= m.target;
      }
      break;
    case 'secret':
      if (m.from !== undefined) fail('secret mount should not have a from');
      if (m.source !== undefined && m.id !== undefined) fail("both source and id can't be set");
      m.id ??= m.source ?? (m.target ? m.target.split('/').filter(Boolean).pop() : undefined);
      if (m.id === undefined || m.id === '')
        fail('invalid secret mount: one of id, source or target is required');
      if (m.target === undefined && m.env === undefined) m.target = `/run/secrets/${m.id}`;
      break;
    case 'ssh':
      if (m.from !== undefined) fail('ssh mount should not have a from');
      m.id ??= 'default';
      break;
  }
  return m;
}
