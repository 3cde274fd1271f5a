import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { browserCacheControl } from '../../src/core/response-headers.js';

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
