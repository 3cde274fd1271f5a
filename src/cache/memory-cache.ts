import type { CacheResult, Clock, VariantBody, VariantCache } from '../core/ports.js';

export interface MemoryCacheOptions {
  /** Upper bound on cached body bytes; least recently used entries go first. */
  maxBytes: number;
  clock?: Clock;
  /** Called when a background (stale-while-revalidate) refresh fails; the stale copy stays. */
  onRefreshError?: (key: string, err: unknown) => void;
}

interface Entry {
  value: VariantBody;
  /** ms epoch after which the entry is stale. */
  freshUntil: number;
  /** ms epoch after which a stale entry may no longer be served. */
  staleUntil: number;
  size: number;
}

/**
 * In-process LRU of rendered variants with a surrogate-key index, request coalescing
 * (one load per key however many requests wait for it) and stale-while-revalidate.
 */
export function createMemoryCache(opts: MemoryCacheOptions): VariantCache & { stats(): CacheStats } {
  const clock = opts.clock ?? { now: () => Date.now() };
  const entries = new Map<string, Entry>(); // insertion order = recency order
  const byTag = new Map<string, Set<string>>();
  const inflight = new Map<string, Promise<VariantBody>>();
  // Purges that happen while a load is in flight must win: remember when each tag was last
  // purged (a sequence number), and drop a load's result if one of its tags was purged after
  // the load started. Pruned whenever nothing is in flight.
  let seq = 0;
  const purgedAt = new Map<string, number>();
  let bytes = 0;
  const counters = { hits: 0, misses: 0, stale: 0, loads: 0, evictions: 0 };

  function remove(key: string): void {
    const e = entries.get(key);
    if (!e) return;
    entries.delete(key);
    bytes -= e.size;
    for (const tag of e.value.surrogateKeys) {
      const set = byTag.get(tag);
      set?.delete(key);
      if (set && set.size === 0) byTag.delete(tag);
    }
  }

  function store(key: string, value: VariantBody, ttl: number, swr: number): void {
    remove(key);
    const size = value.body.byteLength + 512; // + rough per-entry overhead
    if (size > opts.maxBytes) return;
    const now = clock.now();
    const e: Entry = { value, freshUntil: now + ttl * 1000, staleUntil: now + (ttl + swr) * 1000, size };
    entries.set(key, e);
    bytes += size;
    for (const tag of value.surrogateKeys) {
      let set = byTag.get(tag);
      if (!set) byTag.set(tag, (set = new Set()));
      set.add(key);
    }
    for (const [k] of entries) {
      if (bytes <= opts.maxBytes) break;
      remove(k);
      counters.evictions++;
    }
  }

  function load(key: string, loader: () => Promise<VariantBody>, o: { ttl: number; swr: number }): Promise<VariantBody> {
    let p = inflight.get(key);
    if (!p) {
      counters.loads++;
      const startedAt = seq;
      p = (async () => {
        try {
          const value = await loader();
          const purgedMeanwhile = value.surrogateKeys.some((t) => (purgedAt.get(t) ?? -1) > startedAt);
          if (!purgedMeanwhile) store(key, value, value.ttl ?? o.ttl, value.ttl !== undefined ? 0 : o.swr);
          return value;
        } finally {
          inflight.delete(key);
          if (inflight.size === 0) purgedAt.clear();
        }
      })();
      inflight.set(key, p);
    }
    return p;
  }

  return {
    async getOrLoad(key, loader, o): Promise<CacheResult> {
      const e = entries.get(key);
      const now = clock.now();
      if (e && now < e.freshUntil) {
        entries.delete(key); // refresh recency
        entries.set(key, e);
        counters.hits++;
        return { value: e.value, state: 'HIT' };
      }
      if (e && now < e.staleUntil) {
        counters.stale++;
        load(key, loader, o).catch((err) => opts.onRefreshError?.(key, err));
        return { value: e.value, state: 'STALE' };
      }
      counters.misses++;
      const coalesced = inflight.has(key);
      const value = await load(key, loader, o);
      return coalesced ? { value, state: 'MISS', coalesced } : { value, state: 'MISS' };
    },

    peek(key) {
      const e = entries.get(key);
      return e && clock.now() < e.staleUntil ? e.value : undefined;
    },

    async purge(tags: string[], soft: boolean) {
      const keys = new Set<string>();
      seq++;
      if (inflight.size > 0) for (const tag of tags) purgedAt.set(tag, seq);
      for (const tag of tags) for (const k of byTag.get(tag) ?? []) keys.add(k);
      for (const k of keys) {
        const e = entries.get(k);
        if (!e) continue;
        if (soft) e.freshUntil = 0;
        else remove(k);
      }
      return { purged: keys.size };
    },

    stats: () => ({ ...counters, entries: entries.size, bytes }),
  };
}

export interface CacheStats {
  hits: number;
  misses: number;
  stale: number;
  loads: number;
  evictions: number;
  entries: number;
  bytes: number;
}
