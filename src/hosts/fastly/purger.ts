import { purgeSurrogateKey } from 'fastly:compute';
import type { PurgeKeyResult, Purger } from '../../core/purge/purger.js';

/**
 * The admin API's purge port on Fastly: `purgeSurrogateKey` per key, hard or soft (soft marks
 * objects stale, so they are served while one request refreshes them). It purges this
 * service's cache in every POP: Core Cache entries and readthrough entries alike. The call
 * returns nothing to count, so results carry no `purged` number.
 */
export function createFastlyPurger(): Purger {
  return {
    // Keys are purged one call each; the batch size only bounds how many one admin call sends.
    maxBatch: 256,
    async purge(keys, soft) {
      const results: PurgeKeyResult[] = [];
      for (const key of keys) {
        try {
          purgeSurrogateKey(key, soft);
          results.push({ key, ok: true });
        } catch (err) {
          results.push({ key, ok: false, error: (err as Error)?.message ?? String(err) });
        }
      }
      return results;
    },
  };
}
