import { HttpError } from '../core/errors.js';
import { type StorageError, isStorageError } from '../storage/storage-error.js';

/**
 * What a client sees when the object store failed: a gateway error with a stable code and
 * nothing else. The store's own status, code, bucket and key stay in the logs: a 403 from a
 * misconfigured bucket is our problem, not the client's, and must not read like one.
 *
 *   timeout                       504 ORIGIN_TIMEOUT      (the origin may be fine, just slow)
 *   5xx, throttling, no response  503 ORIGIN_UNAVAILABLE  (transient: worth retrying)
 *   anything else (403, NoSuchBucket, malformed answers)
 *                                 502 ORIGIN_UNAVAILABLE  (the origin answered; we could not use it)
 */
export function originError(err: StorageError): HttpError {
  if (err.code === 'Timeout') return new HttpError(504, 'ORIGIN_TIMEOUT', 'the image origin did not answer in time');
  if (err.retryable) return new HttpError(503, 'ORIGIN_UNAVAILABLE', 'the image origin is unavailable; try again shortly');
  return new HttpError(502, 'ORIGIN_UNAVAILABLE', 'the image origin answered with an error');
}

export { isStorageError };
