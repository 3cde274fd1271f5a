/**
 * A failure talking to an object store. Not an HttpError on purpose: the store's status
 * (a 403 from a misconfigured bucket, say) must never be passed through to a client as-is;
 * whoever catches it decides (typically a 502/503/504 with no internals).
 *
 * Messages name the operation, the key and the store's error code, never credentials,
 * signatures or the store's error details (S3 echoes StringToSign and key ids there).
 */
export class StorageError extends Error {
  /** HTTP status the store answered with, or 0 when no response came back (timeout, connection). */
  readonly status: number;
  /** The store's error code (`NoSuchBucket`, `AccessDenied`, `SlowDown`...) or `Timeout` / `NetworkError` / `InvalidKey`. */
  readonly code: string;
  /** Worth retrying elsewhere or later: 5xx, throttling, timeouts, connection errors. */
  readonly retryable: boolean;
  readonly operation: string;
  readonly key?: string;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    operation: string;
    key?: string;
    retryable?: boolean;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'StorageError';
    this.status = init.status;
    this.code = init.code;
    this.operation = init.operation;
    if (init.key !== undefined) this.key = init.key;
    this.retryable = init.retryable ?? isRetryable(init.status, init.code);
  }
}

/** S3 codes that mean "try again", whatever status they come with (the AWS SDKs' list, trimmed). */
const RETRYABLE_CODES = new Set(['Timeout', 'NetworkError', 'RequestTimeout', 'SlowDown', 'Throttling', 'ThrottlingException', 'InternalError', 'ServiceUnavailable']);

function isRetryable(status: number, code: string): boolean {
  return status === 0 || status >= 500 || status === 429 || RETRYABLE_CODES.has(code);
}

export const isStorageError = (e: unknown): e is StorageError => e instanceof StorageError;

/** True only for errors a different replica might not have: never for a missing object or bad credentials. */
export const isRetryableStorageError = (e: unknown): boolean => isStorageError(e) && e.retryable;
