import { TsbuildError } from '../errors.js';

/**
 * Image references parsed exactly like Docker (github.com/distribution/reference, ParseNormalizedNamed
 * + TagNameOnly): `alpine` → `docker.io/library/alpine:latest`. The grammar below is the one in
 * reference/regexp.go; a name is lowercase path components, the first component is a registry host
 * only if it has a `.` or `:` or is `localhost` (or contains an uppercase letter).
 */
export interface ImageReference {
  /** Registry host as written (`docker.io` for Docker Hub), with port if any. */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `library/alpine`. */
  readonly repository: string;
  /** Tag: `latest` when neither tag nor digest was given. Undefined for digest-only references. */
  readonly tag?: string;
  /** `sha256:…` when the reference pins a digest. */
  readonly digest?: string;
}

export const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_MAX = 255;

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const host = `(?:${domainName}|${ipv6})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const namePattern = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const referenceRe = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const anchoredTag = new RegExp(`^${tagPattern}$`);
const anchoredHexId = /^[a-f0-9]{64}$/;
const anchoredDomain = new RegExp(`^${domainAndPort}$`);
const anchoredPath = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);

function invalid(input: string, why: string): TsbuildError {
  return new TsbuildError('INVALID_REFERENCE', `invalid reference format "${input}": ${why}`, {
    hint: 'use NAME[:TAG][@DIGEST] with a lowercase name, e.g. alpine:3.20 or registry.example.com/team/app:1.0',
  });
}

/** Splits `name` into registry and path the way Docker's splitDockerDomain does. */
function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let rest: string;
  const first = name.slice(0, i);
  if (
    i === -1 ||
    (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first)
  ) {
    domain = DEFAULT_REGISTRY;
    rest = name;
  } else {
    domain = first;
    rest = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_REGISTRY) domain = DEFAULT_REGISTRY;
  if (domain === DEFAULT_REGISTRY && !rest.includes('/')) rest = OFFICIAL_REPO_PREFIX + rest;
  return [domain, rest];
}

/** Parses and normalizes an image reference; throws INVALID_REFERENCE with Docker's reasons. */
export function parseReference(input: string, opts: { defaultTag?: boolean } = {}): ImageReference {
  const s = input.trim();
  if (s === '') throw invalid(input, 'empty reference');
  if (anchoredHexId.test(s)) {
    throw invalid(input, 'cannot specify a 64-byte hexadecimal string as a repository name');
  }
  const at = s.indexOf('@');
  const beforeDigest = at === -1 ? s : s.slice(0, at);
  const lastColon = beforeDigest.lastIndexOf(':');
  const lastSlash = beforeDigest.lastIndexOf('/');
  const nameOnly = lastColon > lastSlash ? beforeDigest.slice(0, lastColon) : beforeDigest;
  const [domain, path] = splitDomain(nameOnly);
  if (path !== path.toLowerCase()) throw invalid(input, `repository name "${path}" must be lowercase`);
  const m = referenceRe.exec(`${domain}/${path}${s.slice(nameOnly.length)}`);
  if (!m) {
    if (!anchoredDomain.test(domain)) throw invalid(input, `invalid registry host "${domain}"`);
    if (!anchoredPath.test(path)) throw invalid(input, `invalid repository name "${path}"`);
    throw invalid(input, 'invalid tag or digest');
  }
  if (m[1]!.length > NAME_TOTAL_MAX) throw invalid(input, `repository name longer than ${NAME_TOTAL_MAX}`);
  const digest = m[3];
  if (digest !== undefined) validateDigestForm(input, digest);
  let tag = m[2];
  if (tag === undefined && digest === undefined && opts.defaultTag !== false) tag = 'latest';
  return {
    registry: domain,
    repository: path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

function validateDigestForm(input: string, digest: string): void {
  const [alg, hex] = digest.split(':') as [string, string];
  // Only sha256 can be verified by the store; accepting another algorithm would mean trusting bytes unchecked.
  if (alg !== 'sha256') throw invalid(input, `unsupported digest algorithm "${alg}" (only sha256)`);
  if (!/^[a-f0-9]{64}$/.test(hex)) throw invalid(input, 'a sha256 digest is 64 lowercase hex characters');
}

export function isValidTag(tag: string): boolean {
  return anchoredTag.test(tag);
}

/** `docker.io/library/alpine` */
export function referenceName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** Full normalized form: `docker.io/library/alpine:latest`, `host/x@sha256:…`. */
export function formatReference(ref: ImageReference): string {
  return `${referenceName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** Short form as Docker prints it (FamiliarString): `alpine:latest`, `user/app:1`. */
export function familiarReference(ref: ImageReference): string {
  let name = referenceName(ref);
  if (ref.registry === DEFAULT_REGISTRY) {
    name = ref.repository.startsWith(OFFICIAL_REPO_PREFIX)
      ? ref.repository.slice(OFFICIAL_REPO_PREFIX.length)
      : ref.repository;
  }
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

export function withDigest(ref: ImageReference, digest: string): ImageReference {
  return { registry: ref.registry, repository: ref.repository, ...(ref.tag ? { tag: ref.tag } : {}), digest };
}

export function withTag(ref: ImageReference, tag: string): ImageReference {
  return { registry: ref.registry, repository: ref.repository, tag };
}
