import { RegistryError } from './registry-error.js';

/** Which failures a request may retry, and what a failure says about the server behind it. */

export const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'REGISTRY_TIMEOUT',
  'EAI_AGAIN',
]);

/** Error codes only a registry speaking the distribution spec sends (codes of bare statuses excluded). */
export const REGISTRY_ANSWERS = new Set([
  'UNAUTHORIZED',
  'DENIED',
  'NAME_UNKNOWN',
  'MANIFEST_UNKNOWN',
  'BLOB_UNKNOWN',
  'NAME_INVALID',
  'TAG_INVALID',
  'MANIFEST_INVALID',
  'UNSUPPORTED',
]);

export function isRetryable(e: unknown): boolean {
  if ((e as { authRetry?: boolean }).authRetry) return true;
  const code = (e as { code?: string }).code;
  if (code && RETRY_CODES.has(code)) return true;
  if (e instanceof RegistryError) return RETRY_STATUS.has(e.status);
  return (e as Error).message === 'socket hang up' || (e as Error).message === 'aborted';
}

/** A plain-HTTP request answered the way a TLS server answers it: reset, or bytes that are not HTTP. */
export function looksLikeTls(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return (
    ['ECONNRESET', 'HPE_INVALID_CONSTANT', 'HPE_INVALID_VERSION'].includes(cause?.code ?? '') ||
    cause?.message === 'socket hang up'
  );
}
