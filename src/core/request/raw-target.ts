import { HttpError } from '../errors.js';

// A dot segment, literal or percent-encoded: ".", "..", "%2e", ".%2E", "%2e%2e"...
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;
// Backslash (WHATWG URL parsing turns it into "/"), NUL and other controls, raw or encoded.
const FORBIDDEN = /[\\\x00-\x1f\x7f]|%5c|%00/i;

/**
 * Checks a raw request target ("/path?query" exactly as received) BEFORE it is turned into a
 * URL. The URL parser resolves "..", "%2e%2e" and "\" silently (`/demo/%2e%2e/x` becomes
 * `/x`), so by the time the pipeline sees `request.url` the traversal attempt is invisible.
 * Hosts that get the raw target (Node's `req.url`) call this; the result is an explicit 400
 * rather than a request for some other path.
 */
export function assertSafeRequestTarget(target: string): void {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (DOT_SEGMENT.test(path) || FORBIDDEN.test(path)) {
    throw new HttpError(400, 'INVALID_PATH', 'the path must not contain dot segments, "\\" or control characters');
  }
}
