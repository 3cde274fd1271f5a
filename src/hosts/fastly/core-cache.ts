import { type CacheState, CoreCache, type TransactionCacheEntry } from 'fastly:cache';
import { HttpError } from '../../core/errors.js';
import { isPromise, type MaybePromise } from '../../core/maybe-promise.js';
import type { CacheOptions, CacheResult, VariantBody, VariantCache } from '../../core/ports.js';
import type { Purger } from '../../core/purge/purger.js';
import { BackendLimitError } from './backend-budget.js';
import { createFastlyPurger } from './purger.js';

/**
 * The VariantCache on Fastly's Core Cache API, keyed by the canonical variant.
 *
 * Why Core Cache and not `fetch` + CacheOverride (the HTTP readthrough cache): Viceroy 0.22
 * does not implement the readthrough cache (its CHANGELOG, #496: a `fetch` with a
 * CacheOverride always reaches the backend), while it does implement Core Cache with
 * surrogate keys and hard/soft purges. Production has both, and they share one cache and one
 * purge mechanism, so with Core Cache the code that runs locally is the code that runs in
 * production. It also gives what the pipeline needs: request collapsing (transactionLookup:
 * one caller fetches, concurrent ones wait), stale-while-revalidate (a stale hit is served
 * and one caller is told to refresh), surrogate keys, and a body stored with our metadata.
 *
 * stale-if-error: Core Cache knows only maxAge and staleWhileRevalidate, so an object is
 * inserted usable for swr + staleIfError past its TTL and records its own swr in the metadata.
 * A stale lookup inside swr is served at once and refreshed after the response; past it (the
 * stale-if-error window) the chosen request waits for the miss path and only when that fails
 * (renderer, shield or store down, 5xx, backend limit) answers the stale copy with
 * `X-Cache: STALE`, `X-Stale-Reason: <code>` and a short browser Cache-Control. A 4xx from the
 * miss path (404) is an answer, not a failure: it is passed on. A hard purge removes the object,
 * so nothing is served stale after a takedown.
 */

/** Response header that says why a stale copy was served (the miss path's error code). */
export const STALE_REASON_HEADER = 'x-stale-reason';
/** Browsers may keep a copy served because the origin failed for a minute only: it is retried soon. */
export const STALE_IF_ERROR_BROWSER_MAX_AGE = 60;

/** Bump when the stored metadata changes shape: old entries then simply miss. */
export const CACHE_KEY_PREFIX = 'avatar-edge:1:';

interface StoredMeta {
  status: number;
  contentType: string;
  etag: string;
  surrogateKeys: string[];
  headers?: Record<string, string>;
  source: VariantBody['source'];
  /** The stale-while-revalidate window in ms (the rest of Core Cache's is stale-if-error); absent on older entries: all SWR. */
  swr?: number;
}

export interface CoreCacheOptions {
  /** FetchEvent.waitUntil: a stale hit is answered at once and refreshed after the response. */
  waitUntil?: (p: Promise<unknown>) => void;
  log?: (msg: string, err?: unknown) => void;
  /** Seconds an object stays usable past TTL + SWR, to be served when the miss path fails; 0 turns it off. */
  staleIfError?: number;
}

export function createCoreCache(opts: CoreCacheOptions = {}): VariantCache {
  // Made per request (fastly-service.ts): the purger only when the admin API purges.
  let purger: Purger | undefined;
  // transactionLookup blocks the instance until a pending insert for the key lands; a second
  // lookup of a key this same instance is still loading (the admin API verifies a takedown with
  // concurrent requests) would wait on itself forever. Same-instance callers share one load.
  const inflight = new Map<string, Promise<CacheResult>>();

  return {
    getOrLoad(key, load, opts): MaybePromise<CacheResult> {
      const pending = inflight.get(key);
      if (pending) return pending;
      const found = lookupOrLoad(key, load, opts);
      // A hit in hand is answered at once: nothing to share with a later caller.
      if (!isPromise(found)) return found;
      const p = found.finally(() => inflight.delete(key));
      inflight.set(key, p);
      return p;
    },

    async purge(keys, soft) {
      const results = await (purger ??= createFastlyPurger()).purge(keys, soft);
      // Fastly does not say how many objects a key dropped: report the keys purged.
      return { purged: results.filter((r) => r.ok).length };
    },
  };

  /** A fresh hit whose body the caller takes as a stream is answered at once; everything else (reading the body, stale, miss) waits in `settle`. */
  function lookupOrLoad(key: string, load: () => Promise<VariantBody>, options: CacheOptions): MaybePromise<CacheResult> {
    const entry = CoreCache.transactionLookup(CACHE_KEY_PREFIX + key);
    const state = entry.state();
    // A caller that only sends the body on gets Core Cache's own stream: reading 4 KiB in
    // through a Response costs more than everything else a hit does.
    if (options.stream && servable(state)) {
      const length = entry.length();
      if (length !== null) {
        const handed = { value: bodyOf(readMeta(entry), EMPTY), state: state.stale() ? 'STALE' : 'HIT', stream: { body: entry.body(), length } } satisfies CacheResult;
        entry.close();
        return handed;
      }
    }
    return settle(key, entry, state, load, options);
  }

  async function settle(key: string, entry: TransactionCacheEntry, state: CacheState, load: () => Promise<VariantBody>, { ttl, swr }: CacheOptions): Promise<CacheResult> {
    const sie = opts.staleIfError ?? 0;
    if (state.found() && state.usable()) {
      if (servable(state)) {
        const value = await readEntry(entry);
        entry.close();
        return { value, state: state.stale() ? 'STALE' : 'HIT' };
      }
      const value = await readEntry(entry);
      if (withinSwr(entry)) {
        if (opts.waitUntil) {
          // This request was chosen to refresh the stale object; the others keep getting stale copies meanwhile.
          opts.waitUntil(refresh(entry, load, ttl, swr, sie).catch((err) => opts.log?.(`refresh of ${key} failed`, err)));
        } else entry.close();
        return { value, state: 'STALE' };
      }
      // The stale-if-error window: fetch now, fall back to the stale copy only on failure.
      try {
        const fresh = await loadOrCancel(entry, load);
        insert(entry, fresh, ttl, swr, sie);
        return { value: fresh, state: 'MISS' };
      } catch (err) {
        const reason = staleReason(err);
        if (!reason) throw err;
        opts.log?.(`serving stale ${key} (${reason})`, err);
        return { value: servedStale(value, reason), state: 'STALE' };
      }
    }
    if (!state.mustInsertOrUpdate()) {
      // Not ours to insert (should not happen after a transactional miss): serve without caching.
      entry.close();
      return { value: await load(), state: 'MISS' };
    }
    const value = await loadOrCancel(entry, load);
    insert(entry, value, ttl, swr, sie);
    return { value, state: 'MISS' };
  }
}

/** Found, usable, and fresh, or stale with another request chosen to refresh it: served as it is. */
function servable(state: CacheState): boolean {
  return state.found() && state.usable() && (!state.stale() || !state.mustInsertOrUpdate());
}

/** Inside the object's own stale-while-revalidate window (a soft purge counts: its age is still below maxAge)? */
function withinSwr(entry: TransactionCacheEntry): boolean {
  const meta = readMeta(entry);
  const swr = meta.swr ?? entry.staleWhileRevalidate();
  return entry.age() < entry.maxAge() + swr;
}

/** The error code that justifies serving stale, or null when the error is an answer (4xx) to pass on. */
export function staleReason(err: unknown): string | null {
  if (err instanceof HttpError) return err.status >= 500 ? err.code : null;
  if (err instanceof BackendLimitError) return 'BACKEND_LIMIT';
  if (err instanceof Error && err.name === 'StorageError') return 'STORE_ERROR';
  return 'UPSTREAM_ERROR';
}

function servedStale(value: VariantBody, reason: string): VariantBody {
  return {
    ...value,
    headers: { ...value.headers, 'cache-control': `public, max-age=${STALE_IF_ERROR_BROWSER_MAX_AGE}`, [STALE_REASON_HEADER]: reason },
  };
}

async function refresh(entry: TransactionCacheEntry, load: () => Promise<VariantBody>, ttl: number, swr: number, sie: number): Promise<void> {
  insert(entry, await loadOrCancel(entry, load), ttl, swr, sie);
}

/** Runs the load; on failure cancels the transaction so the callers waiting on it try for themselves instead of hanging. */
async function loadOrCancel(entry: TransactionCacheEntry, load: () => Promise<VariantBody>): Promise<VariantBody> {
  try {
    return await load();
  } catch (err) {
    entry.cancel();
    entry.close();
    throw err;
  }
}

/**
 * The status of the copy Core Cache holds for a canonical key, or null when none is usable.
 * A plain lookup: no transaction, no backend request, nothing inserted (the admin API checks
 * takedowns this way: Fastly counts every backend request, Core Cache lookups are not ones).
 */
export function cachedStatus(key: string): number | null {
  const entry = CoreCache.lookup(CACHE_KEY_PREFIX + key);
  if (!entry) return null;
  try {
    const state = entry.state();
    if (!state.found() || !state.usable()) return null;
    return readMeta(entry).status;
  } finally {
    entry.close();
  }
}

/** TTLs in seconds (the pipeline's unit) → Core Cache's milliseconds; staleWhileRevalidate includes the stale-if-error window. */
export function cacheTimes(value: Pick<VariantBody, 'ttl'>, ttl: number, swr: number, staleIfError = 0): { maxAge: number; staleWhileRevalidate: number; swr: number } {
  const own = value.ttl;
  // A body with its own, shorter TTL (short class, tombstone, generated fallback) is not served stale for a week.
  const shortened = own !== undefined && own < ttl;
  const swrMs = shortened ? 0 : swr * 1000;
  return { maxAge: (own ?? ttl) * 1000, staleWhileRevalidate: swrMs + staleIfError * 1000, swr: swrMs };
}

function insert(entry: TransactionCacheEntry, value: VariantBody, ttl: number, swr: number, sie: number): void {
  const { swr: swrMs, ...times } = cacheTimes(value, ttl, swr, sie);
  const meta: StoredMeta = {
    status: value.status,
    contentType: value.contentType,
    etag: value.etag,
    surrogateKeys: value.surrogateKeys,
    source: value.source,
    swr: swrMs,
    ...(value.headers ? { headers: value.headers } : {}),
  };
  const writer = entry.insert({
    ...times,
    surrogateKeys: value.surrogateKeys,
    length: value.body.byteLength,
    userMetadata: JSON.stringify(meta),
  });
  writer.append(value.body as Uint8Array<ArrayBuffer>);
  writer.close();
  entry.close();
}

/** One decoder for every entry's metadata (made at build time, in the snapshot). */
const UTF8 = new TextDecoder();

function readMeta(entry: { userMetadata(): ArrayBuffer }): StoredMeta {
  return JSON.parse(UTF8.decode(entry.userMetadata())) as StoredMeta;
}

const EMPTY = new Uint8Array(0);

/**
 * A stored entry's metadata as a VariantBody with `body` (the swr window is the cache's own,
 * not the body's). Copied field by field: a rest or spread copy is a builtin call that costs a
 * cache hit several times more under js-compute's interpreter.
 */
function bodyOf(meta: StoredMeta, body: Uint8Array): VariantBody {
  const value: VariantBody = { status: meta.status, contentType: meta.contentType, etag: meta.etag, surrogateKeys: meta.surrogateKeys, source: meta.source, body, timings: {} };
  if (meta.headers) value.headers = meta.headers;
  return value;
}

async function readEntry(entry: TransactionCacheEntry): Promise<VariantBody> {
  const meta = readMeta(entry);
  return bodyOf(meta, new Uint8Array(await new Response(entry.body()).arrayBuffer()));
}
