import { HttpError } from '../errors.js';

/**
 * Longest value accepted for any header the pipeline reads. 4096 is Chrome's own cap on
 * Referer (longer ones are cut to the origin); real Accept headers are under 300 characters
 * and If-None-Match holds a few 34-character ETags. Hosts also cap the header block as a
 * whole (Node: 16 KiB → 431), but a single value is what gets parsed, so it is bounded here.
 */
export const MAX_HEADER_LENGTH = 4096;

/** The request headers the image pipeline looks at. */
export const READ_HEADERS = ['accept', 'referer', 'origin', 'if-none-match'] as const;

/** Throws 431 HEADER_TOO_LARGE naming the first read header whose value is over `max`. */
export function assertHeaderSizes(request: Request, max: number = MAX_HEADER_LENGTH): void {
  for (const name of READ_HEADERS) assertHeaderSize(request, name, max);
}

/** Throws 431 HEADER_TOO_LARGE when the `name` header's value is over `max`. */
export function assertHeaderSize(request: Request, name: (typeof READ_HEADERS)[number], max: number = MAX_HEADER_LENGTH): void {
  assertHeaderValueSize(name, request.headers.get(name), max);
}

/** assertHeaderSize for a value the caller has already read. */
export function assertHeaderValueSize(name: (typeof READ_HEADERS)[number], value: string | null, max: number = MAX_HEADER_LENGTH): void {
  if (value !== null && value.length > max) {
    throw new HttpError(431, 'HEADER_TOO_LARGE', `the ${name} header must be at most ${max} characters`);
  }
}
