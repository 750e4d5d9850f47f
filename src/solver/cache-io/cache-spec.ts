import { TsbuildError } from '../../errors.js';
import { splitCsv } from '../../exporter/output-spec.js';
import { formatReference, parseReference } from '../../oci/index.js';

/**
 * Where build cache is imported from (`--cache-from`) or exported to (`--cache-to`), as buildx
 * spells it: `type=registry,ref=R` (a bare `R` too, as `docker build --cache-from R`) or
 * `type=local,src=DIR` / `type=local,dest=DIR`; `mode=min` (the default: the steps of the exported
 * image) or `mode=max` (every step of the build).
 */
export type CacheSpec = ({ type: 'registry'; ref: string } | { type: 'local'; dir: string }) & {
  mode: CacheMode;
  /** `ignore-error=true`: a failed export (or import) is a warning, as in buildx. */
  ignoreError: boolean;
};

export type CacheMode = 'min' | 'max';

/** What parseCacheSpecs made of the values: the specs it takes, and warnings for the rest. */
export interface ParsedCacheSpecs {
  specs: CacheSpec[];
  /** `--cache-to type=inline`: the records go into the image's config (inline-cache.ts). */
  inline: boolean;
  /** Backends tsbuild has not (gha, s3, azblob): the build goes on without them, as CI expects. */
  ignored: string[];
}

const BACKENDS_ELSEWHERE = new Set(['gha', 's3', 'azblob']);

/**
 * Parses `--cache-from` (`dir: 'from'`) or `--cache-to` values. A malformed value (no ref, an
 * unknown key or type) is an error; a backend tsbuild has not is a warning.
 */
export function parseCacheSpecs(values: string[], dir: 'from' | 'to'): ParsedCacheSpecs {
  const out: ParsedCacheSpecs = { specs: [], inline: false, ignored: [] };
  for (const value of values) {
    const flag = `--cache-${dir} ${value}`;
    const kv = fields(value, flag);
    const type = kv.get('type') ?? (kv.has('ref') ? 'registry' : undefined);
    if (type !== undefined && BACKENDS_ELSEWHERE.has(type)) {
      out.ignored.push(flag);
      continue;
    }
    // An inline cache is read back by `--cache-from IMAGE` (type=registry): there is no inline source.
    if (type === 'inline') {
      if (dir === 'from') out.ignored.push(flag);
      else out.inline = true;
      continue;
    }
    const mode = kv.get('mode') ?? 'min';
    if (mode !== 'min' && mode !== 'max') throw bad(flag, `mode must be min or max, not "${mode}"`);
    const ignoreError = /^(true|1)$/i.test(kv.get('ignore-error') ?? '');
    // Layers go out gzip-compressed, in OCI media types, under an OCI image manifest (what
    // buildx's image-manifest=true asks for; ECR needs it): the knobs for that are taken and left alone.
    const allowed = new Set([
      'type',
      'mode',
      'ignore-error',
      'compression',
      'compression-level',
      'force-compression',
      'oci-mediatypes',
      'image-manifest',
    ]);
    if (type === 'registry') {
      allowed.add('ref');
      check(kv, allowed, flag);
      const ref = kv.get('ref');
      if (!ref) throw bad(flag, 'type=registry needs ref=');
      out.specs.push({ type, ref: formatReference(parseReference(ref)), mode, ignoreError });
    } else if (type === 'local') {
      const key = dir === 'from' ? 'src' : 'dest';
      allowed.add(key);
      if (dir === 'from') allowed.add('digest').add('tag');
      else allowed.add('tag');
      check(kv, allowed, flag);
      const d = kv.get(key);
      if (!d) throw bad(flag, `type=local needs ${key}=`);
      out.specs.push({ type, dir: d, mode, ignoreError });
    } else throw bad(flag, `unknown type "${type ?? ''}"`);
  }
  return out;
}

/** A build's `--cache-from` and `--cache-to` values, parsed; `ignored` lists the backends set aside. */
export function buildCacheSpecs(
  from: string[],
  to: string[],
): { from: CacheSpec[]; to: CacheSpec[]; inline: boolean; ignored: string[] } {
  const f = parseCacheSpecs(from, 'from');
  const t = parseCacheSpecs(to, 'to');
  return { from: f.specs, to: t.specs, inline: t.inline, ignored: [...f.ignored, ...t.ignored] };
}

/** `k=v,k=v`, or a bare image reference (`--cache-from R`, as `docker build` takes it). */
function fields(value: string, flag: string): Map<string, string> {
  const kv = new Map<string, string>();
  if (!value.includes('=')) {
    if (value.trim() === '') throw bad(flag, 'empty');
    kv.set('type', 'registry').set('ref', value.trim());
    return kv;
  }
  for (const field of splitCsv(value)) {
    const i = field.indexOf('=');
    if (i <= 0) throw bad(flag, `"${field}" is not key=value`);
    kv.set(field.slice(0, i).trim().toLowerCase(), field.slice(i + 1).trim());
  }
  return kv;
}

function check(kv: Map<string, string>, allowed: Set<string>, flag: string): void {
  for (const k of kv.keys()) if (!allowed.has(k)) throw bad(flag, `unknown or unsupported key "${k}"`);
}

function bad(flag: string, why: string): TsbuildError {
  return new TsbuildError('INVALID_CACHE_SPEC', `invalid ${flag}: ${why}`, {
    hint: 'use type=registry,ref=REF or type=local,src=DIR (--cache-from) / dest=DIR (--cache-to), with mode=min|max',
  });
}
