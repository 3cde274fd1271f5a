import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUrl } from '../../src/core/auth/sign-url.js';
import { loadServiceConfig, type ServiceInput } from '../../src/core/config/service-config.js';
import { decodeToRgba } from '../support/pixels.js';
import { startTestHost } from '../support/node-host.js';

/**
 * Signed URLs and hotlink protection against the real local host (real renderer, real HTTP),
 * configured from config/local.json — what `npm start` serves — plus a tenant that refuses
 * empty referers.
 */
const local = JSON.parse(readFileSync(new URL('../../config/local.json', import.meta.url), 'utf8')) as ServiceInput;
const input: ServiceInput = {
  tenants: { ...local.tenants, strict: { allowedReferers: ['app.example.com', '*.example.org'], allowEmptyReferer: false } },
};
const WEBP = 'image/webp,*/*';

describe('signed URLs and hotlink protection over HTTP', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  beforeAll(async () => {
    host = await startTestHost(input);
  });
  afterAll(() => host?.stop());

  const tenant = loadServiceConfig(input).tenants.get('secure')!;
  const sign = (params: Record<string, string | number>, opts: { kid?: string; exp?: number } = {}) => signUrl({ tenant, id: 'hopper', params, kid: opts.kid ?? 'k1', exp: opts.exp });
  const code = async (r: Response) => ((await r.json()) as { code: string }).code;

  it('serves a valid signed URL: 200, an image of the signed size', async () => {
    const s = await sign({ w: 128, h: 128, fmt: 'webp' });
    const r = await host.get(s.url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/webp');
    const img = await decodeToRgba(new Uint8Array(await r.arrayBuffer()));
    expect([img.width, img.height, img.format]).toEqual([128, 128, 'webp']);
  });

  it("caps the browser max-age at the URL's remaining life", async () => {
    const s = await sign({ w: 64, h: 64, fmt: 'webp' }, { exp: Math.floor(Date.now() / 1000) + 120 });
    const r = await host.get(s.url);
    expect(r.status).toBe(200);
    const maxAge = Number(/max-age=(\d+)/.exec(r.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(100);
    expect(maxAge).toBeLessThanOrEqual(120);
    expect(r.headers.get('cache-control')).not.toContain('stale-while-revalidate');
  });

  it('serves the template form with the same signature, as the same cached object', async () => {
    const s = await sign({ w: 96, h: 96, fmt: 'jpeg' });
    const q = await host.get(s.url);
    const t = await host.get(s.templateUrl!);
    expect([q.status, t.status]).toEqual([200, 200]);
    expect(t.headers.get('x-variant')).toBe('secure/hopper/96x96-cover-q75.jpeg');
    expect(t.headers.get('etag')).toBe(q.headers.get('etag'));
    expect(t.headers.get('x-cache')).toBe('HIT');
    const img = await decodeToRgba(new Uint8Array(await t.arrayBuffer()));
    expect([img.width, img.height, img.format]).toEqual([96, 96, 'jpeg']);
  });

  it('still verifies with junk params, reordered params and a negotiated format', async () => {
    const s = await sign({ w: 64, h: 64 });
    const params = [...new URLSearchParams(s.url.split('?')[1])].reverse();
    params.splice(2, 0, ['utm_source', 'newsletter'], ['cb', '12345'], ['FBCLID', 'x']);
    const r = await host.get(`/secure/hopper?${new URLSearchParams(params)}`, { accept: WEBP });
    expect(r.status).toBe(200);
    expect(r.headers.get('vary')).toBe('Accept');
    const legacy = await host.get(s.url, { accept: 'image/jpeg,*/*' });
    expect(legacy.status).toBe(200);
    expect(legacy.headers.get('content-type')).toBe('image/jpeg');
  });

  it('refuses expired URLs: 403 EXPIRED', async () => {
    const s = await sign({ w: 64, h: 64, fmt: 'webp' }, { exp: Math.floor(Date.now() / 1000) - 1 });
    const r = await host.get(s.url);
    expect(r.status).toBe(403);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(await code(r)).toBe('EXPIRED');
  });

  it('refuses tampered URLs: 403 BAD_SIGNATURE', async () => {
    const s = await sign({ w: 64, h: 64, fmt: 'webp' });
    expect(await code(await host.get(s.url.replace('w=64', 'w=512')))).toBe('BAD_SIGNATURE');
    expect(await code(await host.get(s.url.replace('fmt=webp', 'fmt=png')))).toBe('BAD_SIGNATURE');
    expect(await code(await host.get(s.url.replace('/secure/hopper?', '/secure/mysha?')))).toBe('BAD_SIGNATURE');
    const i = s.url.indexOf('sig=') + 4;
    const altered = s.url.slice(0, i) + (s.url[i] === 'A' ? 'B' : 'A') + s.url.slice(i + 1);
    const r = await host.get(altered);
    expect(r.status).toBe(403);
    expect(await code(r)).toBe('BAD_SIGNATURE');
  });

  it('refuses an unknown key id: 403 UNKNOWN_KEY, and a missing signature: 403 SIGNATURE_REQUIRED', async () => {
    const s = await sign({ w: 64, h: 64, fmt: 'webp' });
    expect(await code(await host.get(s.url.replace('kid=k1', 'kid=k9')))).toBe('UNKNOWN_KEY');
    const r = await host.get('/secure/hopper?w=64&h=64&fmt=webp');
    expect(r.status).toBe(403);
    expect(await code(r)).toBe('SIGNATURE_REQUIRED');
    expect(await code(await host.get('/secure/hopper/64.webp'))).toBe('SIGNATURE_REQUIRED');
  });

  it('a cached variant is not served to an unsigned request', async () => {
    const s = await sign({ w: 48, h: 48, fmt: 'png' });
    expect((await host.get(s.url)).status).toBe(200);
    const r = await host.get('/secure/hopper/48.png');
    expect(r.status).toBe(403);
  });

  it('rotates keys: URLs signed with either configured key verify', async () => {
    const a = await sign({ w: 32, h: 32, fmt: 'webp' }, { kid: 'k1' });
    const b = await sign({ w: 32, h: 32, fmt: 'webp' }, { kid: 'k2' });
    expect(a.sig).not.toBe(b.sig);
    expect((await host.get(a.url)).status).toBe(200);
    expect((await host.get(b.url)).status).toBe(200);
    // Each key signs only its own URLs.
    expect(await code(await host.get(a.url.replace('kid=k1', 'kid=k2')))).toBe('BAD_SIGNATURE');
  });

  it('hotlink: allowed, denied and empty referers (secure allows empty)', async () => {
    const s = await sign({ w: 64, h: 64, fmt: 'webp' });
    expect((await host.get(s.url, { referer: 'http://localhost:8080/profile' })).status).toBe(200);
    expect((await host.get(s.url, { referer: 'https://shop.example.com/p/1' })).status).toBe(200);
    expect((await host.get(s.url, {})).status).toBe(200);
    const denied = await host.get(s.url, { referer: 'https://evil.example.net/' });
    expect(denied.status).toBe(403);
    expect(await code(denied)).toBe('HOTLINK_DENIED');
    expect(await code(await host.get(s.url, { referer: 'https://example.com/' }))).toBe('HOTLINK_DENIED'); // apex is not *.example.com
  });

  it('hotlink on an unsigned tenant that refuses empty referers', async () => {
    // 'strict' has no samples: an allowed page gets past the check to the 404 of the missing original.
    expect((await host.get('/strict/u-1?w=64', { referer: 'https://app.example.com/' })).status).toBe(404);
    expect((await host.get('/strict/u-1?w=64', { origin: 'https://a.b.example.org' })).status).toBe(404);
    for (const headers of [{}, { referer: '' }, { origin: 'null' }, { referer: 'https://example.org/' }, { referer: 'https://app.example.com.evil.io/' }] as Record<string, string>[]) {
      const r = await host.get('/strict/u-1?w=64', headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(await code(r)).toBe('HOTLINK_DENIED');
    }
  });

  it('the demo tenant stays unsigned', async () => {
    expect((await host.get('/demo/hopper/64.webp')).status).toBe(200);
  });
});
