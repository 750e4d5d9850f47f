import { TsbuildError } from '../errors.js';
import type { Compression } from '../oci/index.js';
import type { OutputSpec, OutputType } from './types.js';

const TYPES: OutputType[] = ['image', 'oci', 'docker', 'local', 'tar', 'registry'];
const BOOL_KEYS = new Set(['tar', 'push', 'force-compression', 'oci-mediatypes', 'rewrite-timestamp']);
const KNOWN = new Set(['type', 'dest', 'name', 'compression', 'compression-level', ...BOOL_KEYS]);

function bad(spec: string, why: string): TsbuildError {
  return new TsbuildError('INVALID_OUTPUT', `invalid --output "${spec}": ${why}`, {
    hint: 'use type=image|oci|docker|local|tar|registry with dest=, name=, tar=, push=, compression=gzip|zstd|uncompressed, compression-level=N, oci-mediatypes=, rewrite-timestamp=',
  });
}

/** Splits one CSV record as Go's encoding/csv does (buildx parses --output with it): quotes group commas. */
export function splitCsv(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new TsbuildError('INVALID_OUTPUT', `unterminated quote in --output "${s}"`);
  out.push(cur);
  return out;
}

function parseBool(spec: string, key: string, v: string): boolean {
  if (/^(true|1)$/i.test(v)) return true;
  if (/^(false|0)$/i.test(v)) return false;
  throw bad(spec, `${key} must be true or false, not "${v}"`);
}

/** Parses one `--output` like buildx: `type=oci,dest=out.tar`; a bare `PATH` is `type=local,dest=PATH`, `-` a tar to stdout. */
export function parseOutput(spec: string): OutputSpec {
  const s = spec.trim();
  if (s === '') throw bad(spec, 'empty');
  if (!s.includes('=')) {
    return s === '-' ? base('tar', { dest: '-' }) : base('local', { dest: s });
  }
  const kv = new Map<string, string>();
  for (const field of splitCsv(s)) {
    const i = field.indexOf('=');
    if (i <= 0) throw bad(spec, `"${field}" is not key=value`);
    const key = field.slice(0, i).trim().toLowerCase();
    if (!KNOWN.has(key)) throw bad(spec, `unknown or unsupported key "${key}"`);
    if (kv.has(key) && key !== 'name') throw bad(spec, `"${key}" given twice`);
    kv.set(
      key,
      key === 'name' && kv.has('name') ? `${kv.get('name')},${field.slice(i + 1)}` : field.slice(i + 1),
    );
  }
  const type = kv.get('type');
  if (!type) throw bad(spec, 'type= is required');
  if (!TYPES.includes(type as OutputType)) throw bad(spec, `unknown type "${type}"`);
  const out = base(type as OutputType, {});
  for (const [k, v] of kv) applyKey(spec, out, k, v);
  validate(spec, out);
  return out;
}

function base(type: OutputType, o: Partial<OutputSpec>): OutputSpec {
  return { type, tar: true, names: [], push: type === 'registry', forceCompression: false, attrs: {}, ...o };
}

function applyKey(spec: string, out: OutputSpec, k: string, v: string): void {
  switch (k) {
    case 'type':
      return;
    case 'dest':
      out.dest = v;
      return;
    case 'name':
      out.names = v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      return;
    case 'tar':
      out.tar = parseBool(spec, k, v);
      return;
    case 'push':
      out.push = parseBool(spec, k, v);
      return;
    case 'force-compression':
      out.forceCompression = parseBool(spec, k, v);
      return;
    case 'oci-mediatypes':
      out.ociMediaTypes = parseBool(spec, k, v);
      return;
    case 'rewrite-timestamp':
      out.rewriteTimestamp = parseBool(spec, k, v);
      return;
    case 'compression':
      if (!['gzip', 'zstd', 'uncompressed'].includes(v))
        throw bad(spec, `compression must be gzip, zstd or uncompressed, not "${v}"`);
      out.compression = v as Compression;
      return;
    case 'compression-level': {
      if (!/^-?\d+$/.test(v)) throw bad(spec, `compression-level must be an integer, not "${v}"`);
      out.compressionLevel = Number(v);
      return;
    }
  }
}

function validate(spec: string, out: OutputSpec): void {
  if (
    (out.type === 'oci' || out.type === 'docker' || out.type === 'local' || out.type === 'tar') &&
    !out.dest
  ) {
    // buildx allows docker without dest (loads into the daemon); there is no daemon here.
    throw bad(spec, `type=${out.type} needs dest=`);
  }
  if (out.type === 'local' && out.dest === '-')
    throw bad(spec, 'type=local cannot write to stdout; use type=tar,dest=-');
  if (out.dest === '-' && !out.tar) throw bad(spec, 'tar=false cannot write to stdout');
  if (out.compressionLevel !== undefined) {
    const c = out.compression ?? 'gzip';
    const [lo, hi] = c === 'zstd' ? [1, 22] : c === 'gzip' ? [0, 9] : [0, 0];
    if (c === 'uncompressed' || out.compressionLevel < lo || out.compressionLevel > hi) {
      throw bad(
        spec,
        `compression-level ${out.compressionLevel} is out of range for ${c}${c === 'uncompressed' ? '' : ` (${lo}-${hi})`}`,
      );
    }
  }
}

/** Parses every `--output`; at most one of each local-store kind makes sense, several file outputs are fine. */
export function parseOutputs(specs: string[]): OutputSpec[] {
  return specs.map(parseOutput);
}
