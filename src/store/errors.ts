import { type ErrorOptions, TsbuildError } from '../errors.js';

/**
 * Store error codes: BLOB_NOT_FOUND, DIGEST_MISMATCH, SIZE_MISMATCH, INGEST_LOCKED, SNAPSHOT_NOT_FOUND,
 * SNAPSHOT_EXISTS, SNAPSHOT_IN_USE, SNAPSHOT_STATE, MOUNT_FAILED, LAYER_UNSAFE, LAYER_INVALID,
 * STORE_LOCKED, STORE_CORRUPT.
 */
export class StoreError extends TsbuildError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}
