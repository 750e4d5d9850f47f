import { TsbuildError } from '../errors.js';

/** Hints per distribution-spec error code: what the user can do about it. */
const HINTS: Record<string, string> = {
  UNAUTHORIZED: 'log in with `tsbuild login REGISTRY` (credentials are read from $DOCKER_CONFIG/config.json)',
  DENIED: 'your credentials are not allowed this action on the repository: check the name and your access',
  NAME_UNKNOWN: 'the repository does not exist on this registry: check the name',
  MANIFEST_UNKNOWN: 'no image with this tag or digest: check the tag (`latest` is used when none is given)',
  BLOB_UNKNOWN: 'the registry lost or never had this blob: push the image again',
  BLOB_UPLOAD_UNKNOWN: 'the upload session expired: push again',
  BLOB_UPLOAD_INVALID: 'the registry rejected the upload: push again',
  DIGEST_INVALID: 'the registry computed a different digest: the data was corrupted on the way, retry',
  MANIFEST_INVALID: 'the registry rejected the manifest (an unsupported media type or a missing blob)',
  MANIFEST_BLOB_UNKNOWN: 'a blob the manifest references is missing on the registry: push again',
  SIZE_INVALID: 'the registry saw a different size than announced: retry',
  TOOMANYREQUESTS: 'the registry rate-limits you: wait, or log in for a higher limit',
  UNSUPPORTED: 'the registry does not support this operation',
  NAME_INVALID: 'the repository name is not valid for this registry',
  TAG_INVALID: 'the tag is not valid for this registry',
};

/** An error answered by a registry: `code` is the registry's own (`BLOB_UNKNOWN`, `DENIED`, …). */
export class RegistryError extends TsbuildError {
  readonly status: number;
  readonly registryCode: string;
  readonly detail?: unknown;

  constructor(
    status: number,
    registryCode: string,
    message: string,
    options: { hint?: string; detail?: unknown } = {},
  ) {
    super(registryCode, message, {
      hint: options.hint ?? HINTS[registryCode] ?? 'check the registry and retry',
    });
    this.status = status;
    this.registryCode = registryCode;
    if (options.detail !== undefined) this.detail = options.detail;
  }
}

function codeForStatus(status: number): string {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'TOOMANYREQUESTS';
  if (status >= 500) return 'REGISTRY_UNAVAILABLE';
  return 'REGISTRY_ERROR';
}

/** Builds the error from a registry's `{"errors":[{code,message,detail}]}` body (or just the status). */
export function registryErrorFrom(status: number, body: Buffer, what: string): RegistryError {
  let code = codeForStatus(status);
  let message = '';
  let detail: unknown;
  try {
    const j = JSON.parse(body.toString('utf8')) as {
      errors?: { code?: string; message?: string; detail?: unknown }[];
    };
    const first = j.errors?.[0];
    if (first?.code) code = String(first.code).toUpperCase();
    if (first?.message) message = first.message;
    detail = first?.detail;
  } catch {
    message = body.toString('utf8').slice(0, 200).trim();
  }
  return new RegistryError(
    status,
    code,
    `${what}: ${message || `HTTP ${status}`} (${code}, HTTP ${status})`,
    {
      detail,
    },
  );
}
