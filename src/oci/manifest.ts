import { TsbuildError } from '../errors.js';
import {
  configFieldError,
  foldConfigKeys,
  tagFractionalNumbers,
  untagNumbers,
  zeroConfigValues,
} from './config-fields.js';
import type { Descriptor } from './descriptor.js';
import { isDigest } from './digest.js';
import { isIndexMediaType, isManifestMediaType } from './media-types.js';
import { formatPlatform, normalizePlatform, type Platform, platformMatches } from './platform.js';

/** An image manifest: OCI image-spec manifest.md, or Docker v2 schema 2 (same shape). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A descriptor inside an index: may carry the platform it runs on. */
export type IndexEntry = Descriptor & { platform?: Platform };

/** An image index (OCI) or manifest list (Docker). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: IndexEntry[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The runtime part of an image config (`config` in the image JSON). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: {
    Test?: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  };
  OnBuild?: string[] | null;
  StopTimeout?: number;
  Shell?: string[];
}

/** OCI image config (image-spec config.md), which Docker's container.image.v1 also is. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

function bad(what: string, why: string): TsbuildError {
  return new TsbuildError('INVALID_MANIFEST', `invalid ${what}: ${why}`, {
    hint: 'the registry or archive served a document that is not an OCI/Docker image manifest',
  });
}

function parseJson(bytes: Uint8Array | string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (cause) {
    throw new TsbuildError('INVALID_MANIFEST', `invalid ${what}: not JSON`, { cause });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(what, 'not a JSON object');
  return v as Record<string, unknown>;
}

export function checkDescriptor(d: unknown, what: string): Descriptor {
  if (d === null || typeof d !== 'object') throw bad(what, 'descriptor is not an object');
  const o = d as Record<string, unknown>;
  if (typeof o.mediaType !== 'string') throw bad(what, 'descriptor without mediaType');
  if (!isDigest(o.digest)) {
    throw bad(what, `descriptor digest "${String(o.digest)}" is not a valid digest`);
  }
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) {
    throw bad(what, 'descriptor size is not a non-negative integer');
  }
  return o as unknown as Descriptor;
}

/** The kind of a manifest document, from its mediaType field or, if absent, its shape. */
export function manifestKind(doc: Record<string, unknown>, headerType?: string): 'manifest' | 'index' {
  const mt = (typeof doc.mediaType === 'string' ? doc.mediaType : undefined) ?? headerType;
  if (doc.schemaVersion === 1 || mt?.startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw new TsbuildError('UNSUPPORTED_MANIFEST', 'Docker image manifest schema 1 is not supported', {
      hint: 'schema 1 is deprecated (Docker removed it too): re-push the image with a current client to get schema 2 / OCI',
    });
  }
  if (isIndexMediaType(mt)) return 'index';
  if (isManifestMediaType(mt)) return 'manifest';
  if (Array.isArray(doc.manifests)) return 'index';
  if (doc.config !== undefined && Array.isArray(doc.layers)) return 'manifest';
  throw bad('manifest', `unsupported media type "${mt ?? '(none)'}"`);
}

export function parseManifest(bytes: Uint8Array | string): ImageManifest {
  const o = parseJson(bytes, 'manifest');
  if (o.schemaVersion !== 2)
    throw bad('manifest', `schemaVersion ${String(o.schemaVersion)} (only 2 is supported)`);
  checkDescriptor(o.config, 'manifest config');
  if (!Array.isArray(o.layers)) throw bad('manifest', 'layers is not an array');
  for (const l of o.layers) checkDescriptor(l, 'manifest layer');
  return o as unknown as ImageManifest;
}

export function parseIndex(bytes: Uint8Array | string): ImageIndex {
  const o = parseJson(bytes, 'index');
  if (o.schemaVersion !== 2)
    throw bad('index', `schemaVersion ${String(o.schemaVersion)} (only 2 is supported)`);
  if (!Array.isArray(o.manifests)) throw bad('index', 'manifests is not an array');
  for (const m of o.manifests) checkDescriptor(m, 'index entry');
  return o as unknown as ImageIndex;
}

export function parseImageConfig(bytes: Uint8Array | string): ImageConfig {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  const o = foldConfigKeys(parseJson(tagFractionalNumbers(text), 'image config'));
  const rootfs = o.rootfs as { diff_ids?: unknown } | undefined;
  if (!rootfs || !Array.isArray(rootfs.diff_ids)) throw bad('image config', 'rootfs.diff_ids missing');
  for (const d of rootfs.diff_ids) {
    if (typeof d !== 'string' || !isDigest(d)) throw bad('image config', `diff_id "${String(d)}"`);
  }
  if (typeof o.os !== 'string' || typeof o.architecture !== 'string') {
    throw bad('image config', 'os/architecture missing');
  }
  const wrong = configFieldError(o);
  if (wrong) throw bad('image config', wrong);
  zeroConfigValues(o);
  return untagNumbers(o) as ImageConfig;
}

/**
 * The platforms an image may have to run as `p`, best first: containerd's platforms.Only (the one
 * dockerd 20.10's BuildKit resolves with). arm/vN also takes the older arm variants down to v5; any
 * other platform only itself (an amd64 build does not take an `amd64/v2` entry).
 */
function platformVector(p: Platform): Platform[] {
  const n = normalizePlatform(p);
  const out = [n];
  const v = n.architecture === 'arm' ? /^v([5-8])$/.exec(n.variant ?? '') : null;
  if (v) for (let i = Number(v[1]) - 1; i >= 5; i--) out.push({ ...n, variant: `v${i}` });
  return out;
}

/** Parses either kind, by media type (header or field) or shape. */
export function parseManifestOrIndex(
  bytes: Uint8Array | string,
  headerType?: string,
): { kind: 'manifest'; manifest: ImageManifest } | { kind: 'index'; index: ImageIndex } {
  const kind = manifestKind(parseJson(bytes, 'manifest'), headerType);
  return kind === 'index' ? { kind, index: parseIndex(bytes) } : { kind, manifest: parseManifest(bytes) };
}

/**
 * Canonical bytes of a document we write: JSON without whitespace, keys in insertion order, and
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's json.Marshal escapes them (BuildKit's configs:
 * `RUN a && b` is `a \u0026\u0026 b` there). Those characters occur only inside strings.
 */
export function encodeJson(doc: unknown): Buffer {
  return Buffer.from(JSON.stringify(doc).replace(GO_ESCAPED, goEscape), 'utf8');
}

const GO_ESCAPED = /[<>&\u2028\u2029]/g;

function goEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Picks the manifest for `wanted` from an index; a clear error lists what the index has. */
export function selectPlatform(index: ImageIndex, wanted: Platform, name = 'image'): IndexEntry {
  const entries = index.manifests.filter((m) => isManifestMediaType(m.mediaType));
  for (const p of platformVector(wanted)) {
    const hit = entries.find((m) => platformMatches(p, m.platform));
    if (hit) return hit;
  }
  const have = entries
    .map((m) => (m.platform ? formatPlatform(m.platform) : undefined))
    .filter((p): p is string => p !== undefined && !p.startsWith('unknown/'));
  throw new TsbuildError(
    'PLATFORM_NOT_FOUND',
    `${name} has no manifest for platform ${formatPlatform(wanted)}`,
    {
      hint: have.length
        ? `available platforms: ${have.join(', ')}; choose one with --platform`
        : 'the index lists no platforms',
    },
  );
}
