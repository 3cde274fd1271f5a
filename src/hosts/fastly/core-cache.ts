import { CoreCache, type TransactionCacheEntry } from 'fastly:cache';
import type { CacheResult, VariantBody, VariantCache } from '../../core/ports.js';
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
 */

/** Bump when the stored metadata changes shape: old entries then simply miss. */
export const CACHE_KEY_PREFIX = 'avatar-edge:1:';

interface StoredMeta {
  status: number;
  contentType: string;
  etag: string;
  surrogateKeys: string[];
  headers?: Record<string, string>;
  source: VariantBody['source'];
}

export interface CoreCacheOptions {
  /** FetchEvent.waitUntil: a stale hit is answered at once and refreshed after the response. */
  waitUntil?: (p: Promise<unknown>) => void;
  log?: (msg: string, err?: unknown) => void;
}

export function createCoreCache(opts: CoreCacheOptions = {}): VariantCache {
  const purger = createFastlyPurger();
  // transactionLookup blocks the instance until a pending insert for the key lands; a second
  // lookup of a key this same instance is still loading (the admin API verifies a takedown with
  // concurrent requests) would wait on itself forever. Same-instance callers share one load.
  const inflight = new Map<string, Promise<CacheResult>>();

  return {
    getOrLoad(key, load, opts): Promise<CacheResult> {
      let p = inflight.get(key);
      if (!p) {
        p = lookupOrLoad(key, load, opts).finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      return p;
    },

    async purge(keys, soft) {
      const results = await purger.purge(keys, soft);
      // Fastly does not say how many objects a key dropped: report the keys purged.
      return { purged: results.filter((r) => r.ok).length };
    },
  };

  async function lookupOrLoad(key: string, load: () => Promise<VariantBody>, { ttl, swr }: { ttl: number; swr: number }): Promise<CacheResult> {
    const entry = CoreCache.transactionLookup(CACHE_KEY_PREFIX + key);
    const state = entry.state();
    if (state.found() && state.usable()) {
      const value = await readEntry(entry);
      if (state.stale() && state.mustInsertOrUpdate() && opts.waitUntil) {
        // This request was chosen to refresh the stale object; the others keep getting stale copies meanwhile.
        opts.waitUntil(refresh(entry, load, ttl, swr).catch((err) => opts.log?.(`refresh of ${key} failed`, err)));
        return { value, state: 'STALE' };
      }
      entry.close();
      return { value, state: state.stale() ? 'STALE' : 'HIT' };
    }
    if (!state.mustInsertOrUpdate()) {
      // Not ours to insert (should not happen after a transactional miss): serve without caching.
      entry.close();
      return { value: await load(), state: 'MISS' };
    }
    const value = await loadOrCancel(entry, load);
    insert(entry, value, ttl, swr);
    return { value, state: 'MISS' };
  }
}

async function refresh(entry: TransactionCacheEntry, load: () => Promise<VariantBody>, ttl: number, swr: number): Promise<void> {
  insert(entry, await loadOrCancel(entry, load), ttl, swr);
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
    return (JSON.parse(new TextDecoder().decode(entry.userMetadata())) as StoredMeta).status;
  } finally {
    entry.close();
  }
}

/** TTLs in seconds (the pipeline's unit) → Core Cache's milliseconds. */
export function cacheTimes(value: Pick<VariantBody, 'ttl'>, ttl: number, swr: number): { maxAge: number; staleWhileRevalidate: number } {
  const own = value.ttl;
  // A body with its own, shorter TTL (short class, tombstone, generated fallback) is not served stale for a week.
  const shortened = own !== undefined && own < ttl;
  return { maxAge: (own ?? ttl) * 1000, staleWhileRevalidate: shortened ? 0 : swr * 1000 };
}

function insert(entry: TransactionCacheEntry, value: VariantBody, ttl: number, swr: number): void {
  const meta: StoredMeta = {
    status: value.status,
    contentType: value.contentType,
    etag: value.etag,
    surrogateKeys: value.surrogateKeys,
    source: value.source,
    ...(value.headers ? { headers: value.headers } : {}),
  };
  const writer = entry.insert({
    ...cacheTimes(value, ttl, swr),
    surrogateKeys: value.surrogateKeys,
    length: value.body.byteLength,
    userMetadata: JSON.stringify(meta),
  });
  writer.append(value.body as Uint8Array<ArrayBuffer>);
  writer.close();
  entry.close();
}

async function readEntry(entry: TransactionCacheEntry): Promise<VariantBody> {
  const meta = JSON.parse(new TextDecoder().decode(entry.userMetadata())) as StoredMeta;
  const body = new Uint8Array(await new Response(entry.body()).arrayBuffer());
  return { ...meta, body, timings: {} };
}
