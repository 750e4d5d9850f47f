import { createHash } from 'node:crypto';
import { TsbuildError } from '../errors.js';

/** A content digest. Only sha256 is produced or accepted (OCI image spec: sha256 is REQUIRED). */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/** Validates `sha256:<64 lowercase hex>`; anything else (other algorithms, upper case) is an error. */
export function parseDigest(value: string): Digest {
  if (!isDigest(value)) {
    throw new TsbuildError('INVALID_DIGEST', `invalid digest ${JSON.stringify(value.slice(0, 100))}`, {
      hint: 'a digest is sha256: followed by 64 lowercase hex characters',
    });
  }
  return value;
}

/** The hex part of a digest (validated), used as a file name under blobs/sha256. */
export function digestHex(digest: string): string {
  return parseDigest(digest).slice(7);
}

export function digestFromHex(hex: string): Digest {
  return parseDigest(`sha256:${hex}`);
}

/** The sha256 digest of bytes or a string (UTF-8). */
export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
