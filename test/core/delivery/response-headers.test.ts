import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import type { VariantBody } from '../../../src/core/ports.js';
import { browserCacheControl, serverTiming, stageTimings } from '../../../src/core/delivery/response-headers.js';
import { parseServerTiming } from '../../../src/observability/access-log.js';

const config = loadServiceConfig({ tenants: { a: {}, legal: { ttlClass: 'short' } } });
const a = config.tenants.get('a')!;
const legal = config.tenants.get('legal')!;

describe('browser Cache-Control', () => {
  it('is long with SWR normally and short for the legal class', () => {
    expect(browserCacheControl(a, config.cache)).toBe('public, max-age=86400, stale-while-revalidate=604800');
    expect(browserCacheControl(legal, config.cache)).toBe('public, max-age=60');
  });

  it("never outlives a signed URL's exp", () => {
    expect(browserCacheControl(a, config.cache, 300.7)).toBe('public, max-age=300');
    expect(browserCacheControl(legal, config.cache, 30)).toBe('public, max-age=30');
    expect(browserCacheControl(a, config.cache, -5)).toBe('public, max-age=0');
    expect(browserCacheControl(a, config.cache, 10 * 86400)).toBe('public, max-age=86400, stale-while-revalidate=604800');
  });
});

describe('stage timings as data (what a host logs without parsing Server-Timing back)', () => {
  const body: VariantBody = {
    status: 200,
    body: new Uint8Array(1),
    contentType: 'image/webp',
    etag: '"e"',
    surrogateKeys: [],
    source: 'render',
    timings: { origin: 1.25, decode: 20.04, resize: 2.16, encode: 30.5, other: 9 },
  };

  it('are what the header says, read back: a MISS its own stages, a hit or a coalesced wait none', () => {
    for (const [state, coalesced] of [
      ['MISS', false],
      ['MISS', true],
      ['HIT', false],
      ['STALE', false],
    ] as const) {
      expect(stageTimings(state, body, coalesced)).toEqual(parseServerTiming(serverTiming(state, body, 55.55, coalesced)).timings);
    }
    expect(stageTimings('MISS', body)).toEqual({ origin: 1.3, decode: 20, resize: 2.2, encode: 30.5 });
  });
});
