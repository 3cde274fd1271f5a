/**
 * The one error type of the service. Anything caused by a request is an
 * HttpError with a stable `code` and a public `message`; the router renders it
 * as JSON `{ code, message }`. Anything else is a bug and becomes a bare 500.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra response headers (e.g. Cache-Control for a cacheable 410). */
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const isHttpError = (e: unknown): e is HttpError => e instanceof HttpError;

export function badParam(param: string, allowed: string): HttpError {
  return new HttpError(400, 'INVALID_PARAMETER', `invalid value for '${param}': ${allowed}`);
}

/** The JSON error body every host returns, with no-store so errors are never cached downstream. */
export function errorResponse(err: HttpError): Response {
  return new Response(JSON.stringify({ code: err.code, message: err.message }), {
    status: err.status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...err.headers,
    },
  });
}
