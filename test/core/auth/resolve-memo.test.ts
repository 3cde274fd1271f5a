import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signUrl } from '../../../src/core/auth/sign-url.js';
import { createAuthorizer } from '../../../src/core/auth/create-authorizer.js';
import { loadServiceConfig, type ServiceConfig } from '../../../src/core/config/service-config.js';
import { HttpError } from '../../../src/core/errors.js';
import { resolveImageRequest } from '../../../src/core/delivery/image-handler.js';
import { createResolveMemo, type ResolveMemo } from '../../../src/core/request/resolve-memo.js';
import { acme, config, NOW } from './auth-fixtures.js';

const EXP = NOW / 1000 + 60;
const loader = { load: () => Promise.reject(new Error('not used')), facts: async () => ({ alpha: false, animated: false }) };
const authorize = createAuthorizer();

/** One request through parse → canonicalize → authorize: its canonical key, or the refusal's code. */
async function resolve(memo: ResolveMemo | undefined, pathAndQuery: string, headers: Record<string, string> = {}, now = NOW, cfg: ServiceConfig = config): Promise<string> {
  try {
    const r = await resolveImageRequest(new Request(`http://localhost${pathAndQuery}`, { headers }), { config: cfg, loader, authorize, clock: { now: () => now }, ...(memo ? { memo } : {}) });
    return r.key;
  } catch (e) {
    if (e instanceof HttpError) return e.code;
    throw e;
  }
}

const signed = async (params: Record<string, string | number> = { w: 64, h: 64, fmt: 'webp' }, exp = EXP) => (await signUrl({ tenant: acme, id: 'u-1', params, kid: 'k1', exp })).url;

describe('the resolve memo (a repeated URL skips parsing and the signature check)', () => {
  it('still refuses a remembered signed URL once it has expired', async () => {
    const memo = createResolveMemo();
    const url = await signed();
    expect(await resolve(memo, url, {}, NOW)).toMatch(/^acme\/u-1\//);
    expect(await resolve(memo, url, {}, NOW + 59_000)).toMatch(/^acme\/u-1\//);
    expect(await resolve(memo, url, {}, NOW + 61_000)).toBe('EXPIRED');
  });

  it('applies a rotated signing key as soon as the host passes the new settings', async () => {
    const memo = createResolveMemo();
    const url = await signed();
    expect(await resolve(memo, url)).toMatch(/^acme\//);
    const rotated = loadServiceConfig({ tenants: { acme: { requireSignature: true, keys: { k1: 'test-secret-acme-k1-ROTATED' } } } });
    expect(await resolve(memo, url, {}, NOW, rotated)).toBe('BAD_SIGNATURE');
    const dropped = loadServiceConfig({ tenants: { acme: { requireSignature: true, keys: { k2: 'test-secret-acme-k2-0000' } } } });
    expect(await resolve(memo, url, {}, NOW, dropped)).toBe('UNKNOWN_KEY');
    const gone = loadServiceConfig({ tenants: { open: {} } });
    expect(await resolve(memo, url, {}, NOW, gone)).toBe('UNKNOWN_TENANT');
  });

  it('decides hotlinking per Referer and Origin, not per URL', async () => {
    const memo = createResolveMemo();
    const img = '/guarded/u-1?w=64';
    expect(await resolve(memo, img, { referer: 'https://example.com/a' })).toMatch(/^guarded\//);
    expect(await resolve(memo, img, { referer: 'https://evil.example.net/a' })).toBe('HOTLINK_DENIED');
    expect(await resolve(memo, img)).toBe('HOTLINK_DENIED');
    expect(await resolve(memo, img, { referer: '' })).toBe('HOTLINK_DENIED');
    expect(await resolve(memo, img, { origin: 'https://example.com' })).toMatch(/^guarded\//);
    expect(await resolve(memo, img, { origin: 'https://example.com', referer: 'https://evil.example.net/' })).toBe('HOTLINK_DENIED');
    expect(await resolve(memo, img, { referer: 'https://example.com/a' })).toMatch(/^guarded\//);
  });

  it('folds Accept per request, and checks If-None-Match (not part of the key) every time', async () => {
    const memo = createResolveMemo();
    const img = '/open/u-1?w=64&h=64';
    expect(await resolve(memo, img, { accept: 'image/webp' })).toContain('.webp');
    expect(await resolve(memo, img, { accept: 'image/jpeg' })).not.toContain('.webp');
    expect(await resolve(memo, img, { accept: 'image/webp' })).toContain('.webp');
    expect(await resolve(memo, img, { accept: 'image/webp', 'if-none-match': `"${'x'.repeat(5000)}"` })).toBe('HEADER_TOO_LARGE');
  });

  it('keeps at most `max` requests, dropping the oldest first', () => {
    const memo = createResolveMemo({ max: 2 });
    const parts = { tenant: acme, path: { tenant: 'acme', id: 'u-1' }, auth: {}, pending: {} } as never;
    memo.set(config, 'a', parts);
    memo.set(config, 'b', parts);
    memo.set(config, 'c', parts);
    expect([memo.get(config, 'a'), memo.get(config, 'b'), memo.get(config, 'c')].map(Boolean)).toEqual([false, true, true]);
    // Other settings: nothing remembered under the old ones is used.
    expect(memo.get(loadServiceConfig({ tenants: { acme: {} } }), 'b')).toBeUndefined();
    expect(memo.get(config, 'b')).toBeUndefined();
  });

  it('answers every sequence of requests exactly as the full pipeline does', async () => {
    const good = await signed();
    const late = await signed({ w: 96 }, NOW / 1000 + 5);
    const urls = [good, late, `${good}x`, good.replace('kid=k1', 'kid=k9'), '/open/u-1?w=64', '/open/u-1?w=99999', '/guarded/u-1', '/nobody/u-1', '/acme/u-1?w=64'];
    const headerSets: Record<string, string>[] = [
      {},
      { accept: 'image/webp' },
      { referer: 'https://example.com/' },
      { origin: 'null' },
      { referer: 'https://evil.example.net/' },
      { 'if-none-match': 'x'.repeat(5000) },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...urls), fc.constantFrom(...headerSets), fc.constantFrom(0, 4_000, 6_000, 59_000, 61_000)), { minLength: 1, maxLength: 30 }),
        async (requests) => {
          const memo = createResolveMemo({ max: 8 });
          for (const [url, headers, dt] of requests) expect(await resolve(memo, url, headers, NOW + dt)).toBe(await resolve(undefined, url, headers, NOW + dt));
        },
      ),
      { numRuns: 200 },
    );
  });
});
