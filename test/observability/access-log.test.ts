import { describe, expect, it } from 'vitest';
import { droppedParams, loggedUrl, MAX_URL, parseServerTiming, requestIdFor, routeOf, variantParts } from '../../src/observability/access-log.js';

describe('access log fields', () => {
  it('logs the URL as received without the signature value, within MAX_URL', () => {
    expect(loggedUrl('/acme/u-1', '?w=64&exp=1700000000&kid=k1&sig=c2VjcmV0LXNpZw')).toBe('/acme/u-1?w=64&exp=1700000000&kid=k1&sig=-');
    expect(loggedUrl('/acme/u-1', '?SIG=abc&w=64&sig=def')).toBe('/acme/u-1?SIG=-&w=64&sig=-');
    expect(loggedUrl('/acme/u-1', '?design=1&w=64')).toBe('/acme/u-1?design=1&w=64');
    expect(loggedUrl('/acme/u-1', '')).toBe('/acme/u-1');
    expect(loggedUrl(`/${'a'.repeat(3000)}`, '')).toHaveLength(MAX_URL);
  });

  it('reads the tenant and image id of a variant key the way splitting it on "/" does', () => {
    for (const key of ['', 'acme', 'acme/', '/u-1', 'acme/u-1', 'acme/u-1/', 'acme/u-1/64x64-cover-q75.webp', 'acme/u-1/64x64-cover-q75.webp@v3', 'a//b', '//']) {
      const [tenant = '', id = ''] = key ? key.split('/') : [];
      expect(variantParts(key), key).toEqual({ tenant, id });
    }
  });

  it('labels routes the same on every host', () => {
    expect(['/', '/healthz', '/readyz', '/metrics', '/_admin/purge', '/_render/x', '/_upload/t/i', '/_other', '/acme/u-1'].map(routeOf)).toEqual([
      'page',
      'health',
      'ready',
      'metrics',
      'admin',
      'render',
      'upload',
      'other',
      'image',
    ]);
  });

  it('names the query parameters the canonical key drops, never their values', () => {
    expect(droppedParams('')).toEqual([]);
    expect(droppedParams('?w=64&h=64&fmt=webp&sig=x&exp=1&kid=k')).toEqual([]);
    expect(droppedParams('?W=64&utm_Source=mail%40x.com&cb=1&cb=2&flag&=v')).toEqual(['utm_source', 'cb', 'flag']);
    expect(droppedParams('?%E0%A4%A=1')).toEqual(['%e0%a4%a']);
    expect(droppedParams(`?${Array.from({ length: 40 }, (_, i) => `p${i}=1`).join('&')}`)).toHaveLength(16);
    expect(droppedParams(`?${'x'.repeat(500)}=1`)[0]).toHaveLength(64);
  });

  it('reads stage timings and the coalesced mark from Server-Timing', () => {
    expect(parseServerTiming('cache;desc="MISS", origin;dur=1.5, decode;dur=20.0, resize;dur=2.1, encode;dur=30.2, total;dur=55.0')).toEqual({
      timings: { origin: 1.5, decode: 20, resize: 2.1, encode: 30.2 },
      coalesced: false,
    });
    expect(parseServerTiming('cache;desc="MISS", coalesced, total;dur=40.0')).toEqual({ timings: {}, coalesced: true });
    expect(parseServerTiming(undefined)).toEqual({ timings: {}, coalesced: false });
  });

  it('keeps a sane X-Request-Id and replaces anything else', () => {
    expect(requestIdFor('abc-123.x:y_z')).toBe('abc-123.x:y_z');
    for (const bad of [null, '', 'has space', 'x'.repeat(129), '<script>', 'a\nb']) expect(requestIdFor(bad)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
