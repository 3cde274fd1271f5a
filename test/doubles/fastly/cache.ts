/**
 * Test double of `fastly:cache` (CoreCache only): an in-memory cache with surrogate keys,
 * maxAge/SWR in milliseconds and a settable clock, so tests can assert what was stored where.
 */
export interface StoredEntry {
  body: Uint8Array;
  maxAge: number;
  staleWhileRevalidate: number;
  surrogateKeys: string[];
  userMetadata: string;
  insertedAt: number;
  /** Set by a soft purge. */
  softPurged: boolean;
}

export const coreCacheDouble = {
  entries: new Map<string, StoredEntry>(),
  now: 0,
  lookups: [] as string[],
  cancels: [] as string[],
  reset() {
    this.entries.clear();
    this.now = 0;
    this.lookups = [];
    this.cancels = [];
  },
  /** What purgeSurrogateKey does to this cache (the compute double calls it). */
  purge(key: string, soft: boolean): number {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (!e.surrogateKeys.includes(key)) continue;
      n++;
      if (soft) e.softPurged = true;
      else this.entries.delete(k);
    }
    return n;
  },
};

class CacheState {
  constructor(private readonly s: { found: boolean; usable: boolean; stale: boolean; must: boolean }) {}
  found() {
    return this.s.found;
  }
  usable() {
    return this.s.usable;
  }
  stale() {
    return this.s.stale;
  }
  mustInsertOrUpdate() {
    return this.s.must;
  }
}

class BodyWriter {
  private chunks: Uint8Array[] = [];
  constructor(private readonly onClose: (body: Uint8Array) => void) {}
  append(data: Uint8Array | ArrayBuffer | string) {
    this.chunks.push(typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data as ArrayBuffer));
  }
  close() {
    const len = this.chunks.reduce((n, c) => n + c.byteLength, 0);
    const out = new Uint8Array(len);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    this.onClose(out);
  }
}

export class TransactionCacheEntry {
  closed = false;
  constructor(
    private readonly key: string,
    private readonly entry: StoredEntry | undefined,
  ) {}
  state() {
    const e = this.entry;
    if (!e) return new CacheState({ found: false, usable: false, stale: false, must: true });
    const age = coreCacheDouble.now - e.insertedAt;
    const fresh = !e.softPurged && age < e.maxAge;
    const usable = fresh || age < e.maxAge + e.staleWhileRevalidate || e.softPurged;
    return new CacheState({ found: usable, usable, stale: !fresh, must: !fresh });
  }
  age() {
    return coreCacheDouble.now - this.entry!.insertedAt;
  }
  maxAge() {
    return this.entry!.maxAge;
  }
  staleWhileRevalidate() {
    return this.entry!.staleWhileRevalidate;
  }
  userMetadata() {
    return new TextEncoder().encode(this.entry!.userMetadata).buffer;
  }
  body() {
    return new Response(this.entry!.body as Uint8Array<ArrayBuffer>).body!;
  }
  length() {
    return this.entry!.body.byteLength;
  }
  insert(opts: { maxAge: number; staleWhileRevalidate?: number; surrogateKeys?: string[]; userMetadata?: string }) {
    return new BodyWriter((body) => {
      coreCacheDouble.entries.set(this.key, {
        body,
        maxAge: opts.maxAge,
        staleWhileRevalidate: opts.staleWhileRevalidate ?? 0,
        surrogateKeys: opts.surrogateKeys ?? [],
        userMetadata: String(opts.userMetadata ?? ''),
        insertedAt: coreCacheDouble.now,
        softPurged: false,
      });
    });
  }
  cancel() {
    coreCacheDouble.cancels.push(this.key);
  }
  close() {
    this.closed = true;
  }
}

export class CoreCache {
  /** A plain lookup: the entry when one is stored, else null (the real one also takes options). */
  static lookup(key: string) {
    coreCacheDouble.lookups.push(key);
    const e = coreCacheDouble.entries.get(key);
    return e ? new TransactionCacheEntry(key, e) : null;
  }

  static transactionLookup(key: string) {
    coreCacheDouble.lookups.push(key);
    return new TransactionCacheEntry(key, coreCacheDouble.entries.get(key));
  }
}
