import { describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/cache/memory-cache.js';
import type { VariantBody } from '../../src/core/ports.js';

const body = (n: number, tags: string[], fill = 1): VariantBody => ({
  status: 200,
  body: new Uint8Array(n).fill(fill),
  contentType: 'image/webp',
  etag: `"${fill}"`,
  surrogateKeys: tags,
  source: 'render',
  timings: {},
});

const opts = { ttl: 100, swr: 100 };

describe('memory cache', () => {
  it('collapses concurrent misses into one load', async () => {
    const cache = createMemoryCache({ maxBytes: 1e6 });
    let loads = 0;
    const loader = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 20));
      return body(10, ['t:a']);
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.getOrLoad('k', loader, opts)));
    expect(loads).toBe(1);
    expect(results.every((r) => r.value.body.byteLength === 10)).toBe(true);
    expect((await cache.getOrLoad('k', loader, opts)).state).toBe('HIT');
    // The first did the load; the other 19 waited for it and say so (metrics count them apart).
    expect(results.map((r) => r.coalesced === true)).toEqual([false, ...Array<boolean>(19).fill(true)]);
  });

  it('does not cache failures, and a failed load does not poison later ones', async () => {
    const cache = createMemoryCache({ maxBytes: 1e6 });
    await expect(
      cache.getOrLoad(
        'k',
        async () => {
          throw new Error('boom');
        },
        opts,
      ),
    ).rejects.toThrow('boom');
    expect((await cache.getOrLoad('k', async () => body(1, []), opts)).state).toBe('MISS');
  });

  it('evicts least recently used entries by bytes', async () => {
    const cache = createMemoryCache({ maxBytes: 3 * (1000 + 512) });
    for (const k of ['a', 'b', 'c']) await cache.getOrLoad(k, async () => body(1000, []), opts);
    await cache.getOrLoad('a', async () => body(1000, []), opts); // a is now most recent
    await cache.getOrLoad('d', async () => body(1000, []), opts); // evicts b
    expect((await cache.getOrLoad('a', async () => body(1000, []), opts)).state).toBe('HIT');
    expect((await cache.getOrLoad('b', async () => body(1000, []), opts)).state).toBe('MISS');
  });

  it('purges by surrogate key: one variant, or every variant of an image', async () => {
    const cache = createMemoryCache({ maxBytes: 1e6 });
    await cache.getOrLoad('x/1', async () => body(1, ['t:a', 'i:a/x', 'v:a/x/1']), opts);
    await cache.getOrLoad('x/2', async () => body(1, ['t:a', 'i:a/x', 'v:a/x/2']), opts);
    await cache.getOrLoad('y/1', async () => body(1, ['t:a', 'i:a/y', 'v:a/y/1']), opts);
    expect(await cache.purge(['v:a/x/1'], false)).toEqual({ purged: 1 });
    expect((await cache.getOrLoad('x/2', async () => body(1, []), opts)).state).toBe('HIT');
    expect((await cache.getOrLoad('x/1', async () => body(1, ['t:a', 'i:a/x', 'v:a/x/1']), opts)).state).toBe('MISS');
    expect(await cache.purge(['i:a/x'], false)).toEqual({ purged: 2 });
    expect((await cache.getOrLoad('y/1', async () => body(1, []), opts)).state).toBe('HIT');
    expect(cache.stats().entries).toBe(1);
  });

  it('serves stale while revalidating after a soft purge or expiry', async () => {
    let now = 0;
    const cache = createMemoryCache({ maxBytes: 1e6, clock: { now: () => now } });
    await cache.getOrLoad('k', async () => body(1, ['t:a'], 1), opts);
    await cache.purge(['t:a'], true);
    let resolveRefresh!: () => void;
    const refreshed = new Promise<void>((r) => (resolveRefresh = r));
    const stale = await cache.getOrLoad(
      'k',
      async () => {
        resolveRefresh();
        return body(1, ['t:a'], 2);
      },
      opts,
    );
    expect(stale.state).toBe('STALE');
    expect(stale.value.etag).toBe('"1"');
    await refreshed;
    await new Promise((r) => setTimeout(r, 0));
    const fresh = await cache.getOrLoad('k', async () => body(1, [], 3), opts);
    expect(fresh).toMatchObject({ state: 'HIT', value: { etag: '"2"' } });
    now += 1_000_000; // past ttl + swr
    expect((await cache.getOrLoad('k', async () => body(1, [], 4), opts)).state).toBe('MISS');
  });

  it('does not keep a load that was purged while in flight', async () => {
    const cache = createMemoryCache({ maxBytes: 1e6 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inFlight = cache.getOrLoad(
      'k',
      async () => {
        await gate;
        return body(1, ['i:a/x'], 1);
      },
      opts,
    );
    await cache.purge(['i:a/x'], false);
    release();
    expect((await inFlight).state).toBe('MISS');
    const next = await cache.getOrLoad('k', async () => body(1, ['i:a/x'], 2), opts);
    expect(next).toMatchObject({ state: 'MISS', value: { etag: '"2"' } });
    expect((await cache.getOrLoad('k', async () => body(1, [], 3), opts)).state).toBe('HIT');
  });
});
