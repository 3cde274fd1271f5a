import type { VariantCache } from '../ports.js';

/** What purging one surrogate key did. */
export interface PurgeKeyResult {
  key: string;
  ok: boolean;
  /** The platform's purge id, where it returns one (Fastly does, per key). */
  purgeId?: string;
  /** Cached objects dropped or marked stale, where the cache can tell (the in-process LRU can). */
  purged?: number;
  error?: string;
}

/**
 * The purge port. Node/Deno purge their in-process cache; the Fastly host purges with
 * `purgeSurrogateKey`. It may throw (the whole batch failed) or report failures per key;
 * purgeKeys() retries either way.
 */
export interface Purger {
  purge(keys: string[], soft: boolean): Promise<PurgeKeyResult[]>;
  /** Most keys one call accepts (Fastly's batch purge takes 256). */
  readonly maxBatch?: number;
}

/** A Purger over a VariantCache (the hosts that cache in process). */
export function createCachePurger(cache: VariantCache): Purger {
  return {
    maxBatch: 256,
    async purge(keys, soft) {
      const results: PurgeKeyResult[] = [];
      // One key per call so each result says how many objects that key dropped.
      for (const key of keys) results.push({ key, ok: true, purged: (await cache.purge([key], soft)).purged });
      return results;
    },
  };
}
