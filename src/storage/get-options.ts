import type { ObjectStore, StoredObject } from '../core/ports.js';
import { StorageError } from './storage-error.js';

/**
 * Optional extras for `get`: a byte range and a conditional read. They extend the
 * ObjectStore port without changing it: a store that supports them natively (S3) declares
 * `supportsGetOptions`, and `getWithOptions` emulates them over any other store.
 */

/** Inclusive byte offsets, like an HTTP Range header; `end` omitted means "to the end". */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface GetOptions {
  range?: ByteRange;
  /** An If-None-Match value (one or more quoted ETags, or `*`). A match answers 304 with no body. */
  ifNoneMatch?: string;
}

export interface GetResult extends StoredObject {
  /** 200 the whole object, 206 the requested range, 304 not modified (empty body). */
  status: 200 | 206 | 304;
  /** Size of the whole object, when known (always on 200 and 206). */
  size?: number;
}

export interface ConditionalObjectStore extends ObjectStore {
  readonly supportsGetOptions: true;
  get(key: string, opts?: GetOptions): Promise<GetResult | null>;
}

export function supportsGetOptions(store: ObjectStore): store is ConditionalObjectStore {
  return (store as Partial<ConditionalObjectStore>).supportsGetOptions === true;
}

export function assertValidRange(r: ByteRange): void {
  const ok = Number.isSafeInteger(r.start) && r.start >= 0 && (r.end === undefined || (Number.isSafeInteger(r.end) && r.end >= r.start));
  if (!ok) throw new RangeError(`invalid byte range ${JSON.stringify(r)}: need 0 <= start <= end`);
}

/** Weak comparison (RFC 9110 §13.1.2): `W/` prefixes are ignored, `*` matches anything. */
export function etagMatches(ifNoneMatch: string, etag: string | undefined): boolean {
  const tags = ifNoneMatch.split(',').map((t) => t.trim());
  if (tags.includes('*')) return true;
  if (!etag) return false;
  const bare = (t: string) => t.replace(/^W\//, '');
  return tags.some((t) => bare(t) === bare(etag));
}

/** Reads with options from any store: natively when it supports them, else from a full read. */
export async function getWithOptions(store: ObjectStore, key: string, opts: GetOptions = {}): Promise<GetResult | null> {
  if (supportsGetOptions(store)) return store.get(key, opts);
  const obj = await store.get(key);
  return obj && applyGetOptions(obj, opts, key);
}

/** What a store would have answered for `opts`, computed from the whole object. */
export function applyGetOptions(obj: StoredObject, opts: GetOptions, key?: string): GetResult {
  const size = obj.body.byteLength;
  if (opts.ifNoneMatch !== undefined && etagMatches(opts.ifNoneMatch, obj.etag)) {
    return { ...obj, body: new Uint8Array(0), status: 304 };
  }
  if (!opts.range) return { ...obj, status: 200, size };
  assertValidRange(opts.range);
  const { start } = opts.range;
  if (start >= size) {
    throw new StorageError({ status: 416, code: 'InvalidRange', message: `range starts at ${start} past the end (${size} bytes)`, operation: 'get', ...(key === undefined ? {} : { key }) });
  }
  const end = Math.min(opts.range.end ?? size - 1, size - 1);
  return { ...obj, body: obj.body.subarray(start, end + 1), status: 206, size };
}
