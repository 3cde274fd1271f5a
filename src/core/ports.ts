/**
 * The ports each host supplies. The pipeline only ever talks to these, so adding a host
 * (Fastly, Deno, Node) is wiring, not a rewrite.
 */
import type { MaybePromise } from './maybe-promise.js';
import type { FocalRecord } from './focal-point.js';
import type { OriginalFacts } from './request/negotiate-format.js';
import type { Variant } from './variant.js';

/** An object from the originals/variants store (a local directory, R2 or S3). */
export interface StoredObject {
  body: Uint8Array;
  contentType?: string;
  etag?: string;
  metadata?: Record<string, string>;
  /**
   * The body is a buffer of its own that the store keeps no reference to (read from a file or
   * the network): a caller done with it may hand it over (RenderCallOptions `handOver`) rather
   * than have it copied. Unset where a store hands out bytes it keeps (one in memory).
   */
  owned?: boolean;
}

export interface ObjectInfo {
  size: number;
  contentType?: string;
  etag?: string;
  metadata?: Record<string, string>;
}

export interface PutOptions {
  contentType?: string;
  /** Small string metadata (S3 x-amz-meta-*). Keys lowercase [a-z0-9-]. */
  metadata?: Record<string, string>;
}

export interface ListPage {
  keys: string[];
  /** Pass back to get the next page; absent on the last page. */
  cursor?: string;
}

/** Keys are always built by storage-keys.ts from validated values, never from raw requests. */
export interface ObjectStore {
  get(key: string): Promise<StoredObject | null>;
  head(key: string): Promise<ObjectInfo | null>;
  put(key: string, body: Uint8Array, opts?: PutOptions): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  list(prefix: string, opts?: { cursor?: string; limit?: number }): Promise<ListPage>;
  /**
   * Deletes many keys in as few requests as the store allows (S3: one DeleteObjects per 1000
   * keys), for hosts that count requests (Fastly allows 10-32 backend requests per execution).
   * Missing keys count as deleted. Optional: callers fall back to `delete` per key.
   */
  deleteMany?(keys: string[]): Promise<DeleteManyResult>;
}

export interface DeleteManyResult {
  deleted: string[];
  failed: { key: string; error: string }[];
}

/** One of the stores that can serve an object, addressed on its own. */
export interface StoreReplica {
  /** `primary`, or `secondary` for a failover store's fallback (storage/failover-store.ts). */
  name: 'primary' | 'secondary';
  store: ObjectStore;
}

/**
 * A store made of several that can each serve an object (a primary and a failover secondary).
 * Reads fall over from one to the next, so a takedown must tombstone, delete and verify on
 * every one of them: `replicas()` addresses each, primary first.
 */
export interface ReplicatedStore extends ObjectStore {
  replicas(): readonly StoreReplica[];
}

/** A rendered or stored variant, as cached and served. */
export interface VariantBody {
  status: number;
  body: Uint8Array;
  contentType: string;
  /** Strong ETag, quoted. */
  etag: string;
  surrogateKeys: string[];
  /** Extra headers to send with it (e.g. a short Cache-Control on a 410). */
  headers?: Record<string, string>;
  /** Where the bytes came from, for Server-Timing and X-Cache-like diagnostics. */
  source: 'variant-store' | 'render' | 'generated' | 'tombstone';
  timings: Record<string, number>;
  /** Edge TTL override in seconds (short TTL class, tombstones). */
  ttl?: number;
}

export type CacheState = 'HIT' | 'MISS' | 'STALE';

export interface CacheResult {
  value: VariantBody;
  state: CacheState;
  /** A MISS that waited for another request's load of the same key instead of loading. */
  coalesced?: boolean;
  /**
   * The body as the cache's own stream, handed over instead of read (only when the caller
   * asked, CacheOptions.stream): `value.body` is then empty and `length` is the body's size.
   */
  stream?: { body: ReadableStream<Uint8Array>; length: number };
}

export interface CacheOptions {
  ttl: number;
  swr: number;
  /**
   * The caller sends the body on as it is and never reads `value.body`: a cache that stores
   * bodies outside JavaScript may then answer a hit with a stream (CacheResult.stream) instead
   * of reading the bytes in. The one consumer of that stream is the caller.
   */
  stream?: boolean;
}

/** The response cache in front of the loader. Must collapse concurrent misses for one key. */
export interface VariantCache {
  /** The result, or a Promise of it; a cache that has a hit in hand may answer it at once (the edge's Core Cache does: maybe-promise.ts). */
  getOrLoad(key: string, load: () => Promise<VariantBody>, opts: CacheOptions): MaybePromise<CacheResult>;
  /** The entry under `key` if one may still be served (fresh or stale), without loading, counting or touching its recency. */
  peek?(key: string): VariantBody | undefined;
  /** Purges every entry tagged with any of `keys`; soft marks them stale (served while refetching). */
  purge(keys: string[], soft: boolean): Promise<{ purged: number }>;
}

export interface RenderTimings {
  decode: number;
  resize: number;
  encode: number;
  /** Finding the original's focal point, when this render did (once per original). */
  detect?: number;
}

export interface RenderResult {
  body: Uint8Array;
  width: number;
  height: number;
  timings: RenderTimings;
  /** The original's focal record when this render had to find it (the caller stores it). */
  focal?: FocalRecord;
}

/** Decode → resize → encode. In process (jsquash) on Node/Deno; a remote call elsewhere. */
export interface Renderer {
  render(source: Uint8Array, variant: Variant, opts?: RenderCallOptions): Promise<RenderResult>;
}

export interface RenderCallOptions {
  /**
   * The caller will not read `source` again and no one else holds its buffer (a StoredObject
   * that is `owned`): a render thread may take the buffer over instead of a copy, which leaves
   * the caller's view empty. A renderer in the caller's own thread copies nothing either way.
   */
  handOver?: boolean;
}

/** Resolves a canonical variant to bytes on a cache miss. */
export interface LoadOptions {
  /**
   * Called just before a render, after the tombstone and stored-variant checks (so only real
   * renders count); may throw to refuse it (the in-process render budget). Loaders that do
   * not render in process ignore it.
   */
  beforeRender?(variant: Variant): void;
}

export interface VariantLoader {
  load(variant: Variant, opts?: LoadOptions): Promise<VariantBody>;
  /**
   * Whether the original has an alpha channel and is animated (only asked for fmt=auto
   * without WebP support, or with both AVIF and WebP acceptable).
   */
  facts(tenant: string, id: string): Promise<OriginalFacts>;
  /** Drops what the loader remembers about one image (its facts): its original was replaced. */
  forget?(tenant: string, id: string): void;
}

export interface Clock {
  now(): number;
}

/**
 * What a host passes along about the connection a request came on: its peer's address, when
 * the host's server exposes one (Fastly's edge does not; the Node and Deno hosts do).
 */
export interface ConnInfo {
  remoteAddress?: string;
}
