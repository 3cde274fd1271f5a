import { CoreCache, type TransactionCacheEntry } from 'fastly:cache';
import { originalHasAlpha } from '../../core/image/original-alpha.js';
import type { ObjectStore } from '../../core/ports.js';
import { originalKey } from '../../core/storage-keys.js';
import { imageKey, tenantKey } from '../../core/surrogate-keys.js';
import { getWithOptions } from '../../storage/get-options.js';

/** Every header sniff.ts reads (IHDR + tRNS, VP8X, JPEG SOF) sits well inside the first 64 KiB. */
export const PROBE_BYTES = 64 * 1024;

/**
 * Core Cache keys of alpha flags: a namespace of their own, apart from the variants'
 * (core-cache.ts's CACHE_KEY_PREFIX). Bump the version when AlphaFlag changes shape.
 */
export const ALPHA_KEY_PREFIX = 'avatar-edge:alpha:1:';

/** An alpha flag's entry: no body, this JSON as its user metadata. */
export interface AlphaFlag {
  alpha: boolean;
}

/**
 * Whether an original has alpha, for fmt=auto without WebP (PNG for alpha, else JPEG). The edge
 * cache is asked first; on a miss, one ranged read of the original's first 64 KiB from the
 * bucket: the `alpha` metadata an upload recorded, else the header sniffed (no decoding). The
 * answer is kept in Core Cache under the image's surrogate keys, so a purge or a takedown of the
 * image forgets it too; a stale answer is refreshed, and kept when the bucket fails meanwhile.
 * Without a bucket (`bucket()` null) the answer is "alpha", not cached: PNG keeps transparency
 * right, at more bytes. A missing original is "no alpha", not cached: the variant request
 * answers 404 (or the tenant's generated fallback) on its own.
 */
export function createAlphaProbe(bucket: () => Promise<ObjectStore | null>, ttl: { ttl: number; swr: number }) {
  // transactionLookup waits for a pending insert of the key, even this instance's own: a second
  // lookup while the first still loads would wait forever. Same-instance callers share one.
  const pending = new Map<string, Promise<boolean>>();
  return (tenant: string, id: string): Promise<boolean> => {
    const key = `${ALPHA_KEY_PREFIX}${tenant}/${id}`;
    let p = pending.get(key);
    if (!p) {
      p = lookupOrProbe(key, tenant, id).finally(() => pending.delete(key));
      pending.set(key, p);
    }
    return p;
  };

  async function lookupOrProbe(key: string, tenant: string, id: string): Promise<boolean> {
    const entry = CoreCache.transactionLookup(key);
    const state = entry.state();
    const cached = state.found() && state.usable() ? readFlag(entry) : undefined;
    if (cached !== undefined && !(state.stale() && state.mustInsertOrUpdate())) {
      entry.close();
      return cached.alpha;
    }
    if (!state.mustInsertOrUpdate()) {
      entry.close();
      return cached?.alpha ?? answer(await probe(tenant, id));
    }
    let probed: Probed;
    try {
      probed = await probe(tenant, id);
    } catch (err) {
      abandon(entry);
      if (cached !== undefined) return cached.alpha; // the bucket failed: the flag it gave before still holds
      throw err;
    }
    if (typeof probed !== 'boolean') {
      abandon(entry);
      return answer(probed);
    }
    const flag: AlphaFlag = { alpha: probed };
    entry
      .insert({
        maxAge: ttl.ttl * 1000,
        staleWhileRevalidate: ttl.swr * 1000,
        surrogateKeys: [tenantKey(tenant), imageKey(tenant, id)],
        length: 0,
        userMetadata: JSON.stringify(flag),
      })
      .close();
    entry.close();
    return probed;
  }

  async function probe(tenant: string, id: string): Promise<Probed> {
    const store = await bucket();
    if (!store) return 'no-bucket';
    const head = await getWithOptions(store, originalKey(tenant, id), { range: { start: 0, end: PROBE_BYTES - 1 } });
    if (!head) return 'no-original';
    return (await originalHasAlpha(head.metadata, async () => head.body)) ?? false;
  }
}

/** What the bucket says: the original's alpha, or why it cannot say. */
type Probed = boolean | 'no-original' | 'no-bucket';

/** No bucket: "alpha" (PNG keeps transparency right, at more bytes). No original: the variant request answers for itself. */
function answer(probed: Probed): boolean {
  return probed === 'no-bucket' || probed === true;
}

/** Cancels the transaction, so callers waiting on it try for themselves instead of hanging. */
function abandon(entry: TransactionCacheEntry): void {
  entry.cancel();
  entry.close();
}

/** The flag an entry holds, or undefined for an entry of another shape (then it is probed again). */
function readFlag(entry: TransactionCacheEntry): AlphaFlag | undefined {
  try {
    const flag = JSON.parse(new TextDecoder().decode(entry.userMetadata())) as Partial<AlphaFlag>;
    return typeof flag.alpha === 'boolean' ? { alpha: flag.alpha } : undefined;
  } catch {
    return undefined;
  }
}
