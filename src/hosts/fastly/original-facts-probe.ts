import { CoreCache, type TransactionCacheEntry } from 'fastly:cache';
import { originalHasAlpha } from '../../core/image/original-alpha.js';
import { originalIsAnimated } from '../../core/image/original-animation.js';
import type { ObjectStore } from '../../core/ports.js';
import type { OriginalFacts } from '../../core/request/negotiate-format.js';
import { originalKey } from '../../core/storage-keys.js';
import { imageKey, tenantKey } from '../../core/surrogate-keys.js';
import { getWithOptions } from '../../storage/get-options.js';

/**
 * Every header sniff.ts reads (IHDR + tRNS, VP8X, JPEG SOF) sits well inside the first 64 KiB;
 * a GIF's first frame may not, and a GIF cut there after one frame counts as animated.
 */
export const PROBE_BYTES = 64 * 1024;

/**
 * Core Cache keys of original facts: a namespace of their own, apart from the variants'
 * (core-cache.ts's CACHE_KEY_PREFIX). Bump the version when OriginalFacts changes shape.
 */
export const FACTS_KEY_PREFIX = 'avatar-edge:facts:1:';

/**
 * Whether an original has alpha and is animated, for fmt=auto without WebP (PNG for alpha, else
 * JPEG) and with AVIF and WebP both acceptable (WebP for animations, else AVIF). The edge
 * cache is asked first; on a miss, one ranged read of the original's first 64 KiB from the
 * bucket: the `alpha` and `animated` metadata an upload recorded, else the header sniffed (no
 * decoding). The answer is kept in Core Cache under the image's surrogate keys (an entry with
 * no body, the facts as JSON user metadata), so a purge or a takedown of the image forgets it
 * too; a stale answer is refreshed, and kept when the bucket fails meanwhile. Without a bucket
 * (`bucket()` null) the answer is "alpha, still", not cached: PNG keeps transparency right, at
 * more bytes, and AVIF stays. A missing original is "no alpha, still", not cached: the variant
 * request answers 404 (or the tenant's generated fallback) on its own.
 */
export function createFactsProbe(bucket: () => Promise<ObjectStore | null>, ttl: { ttl: number; swr: number }) {
  // transactionLookup waits for a pending insert of the key, even this instance's own: a second
  // lookup while the first still loads would wait forever. Same-instance callers share one.
  const pending = new Map<string, Promise<OriginalFacts>>();
  return (tenant: string, id: string): Promise<OriginalFacts> => {
    const key = `${FACTS_KEY_PREFIX}${tenant}/${id}`;
    let p = pending.get(key);
    if (!p) {
      p = lookupOrProbe(key, tenant, id).finally(() => pending.delete(key));
      pending.set(key, p);
    }
    return p;
  };

  async function lookupOrProbe(key: string, tenant: string, id: string): Promise<OriginalFacts> {
    const entry = CoreCache.transactionLookup(key);
    const state = entry.state();
    const cached = state.found() && state.usable() ? readFacts(entry) : undefined;
    if (cached !== undefined && !(state.stale() && state.mustInsertOrUpdate())) {
      entry.close();
      return cached;
    }
    if (!state.mustInsertOrUpdate()) {
      entry.close();
      return cached ?? answer(await probe(tenant, id));
    }
    let probed: Probed;
    try {
      probed = await probe(tenant, id);
    } catch (err) {
      abandon(entry);
      if (cached !== undefined) return cached; // the bucket failed: the facts it gave before still hold
      throw err;
    }
    if (typeof probed === 'string') {
      abandon(entry);
      return answer(probed);
    }
    entry
      .insert({
        maxAge: ttl.ttl * 1000,
        staleWhileRevalidate: ttl.swr * 1000,
        surrogateKeys: [tenantKey(tenant), imageKey(tenant, id)],
        length: 0,
        userMetadata: JSON.stringify(probed),
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
    const read = async () => head.body;
    return { alpha: (await originalHasAlpha(head.metadata, read)) ?? false, animated: (await originalIsAnimated(head, read)) ?? false };
  }
}

/** What the bucket says: the original's facts, or why it cannot say. */
type Probed = OriginalFacts | 'no-original' | 'no-bucket';

/** No bucket: "alpha, still" (PNG keeps transparency right, at more bytes; AVIF stays). No original: the variant request answers for itself. */
function answer(probed: Probed): OriginalFacts {
  if (typeof probed !== 'string') return probed;
  return { alpha: probed === 'no-bucket', animated: false };
}

/** Cancels the transaction, so callers waiting on it try for themselves instead of hanging. */
function abandon(entry: TransactionCacheEntry): void {
  entry.cancel();
  entry.close();
}

/** The facts an entry holds, or undefined for an entry of another shape (then it is probed again). */
function readFacts(entry: TransactionCacheEntry): OriginalFacts | undefined {
  try {
    const facts = JSON.parse(new TextDecoder().decode(entry.userMetadata())) as Partial<OriginalFacts>;
    return typeof facts.alpha === 'boolean' && typeof facts.animated === 'boolean' ? { alpha: facts.alpha, animated: facts.animated } : undefined;
  } catch {
    return undefined;
  }
}
