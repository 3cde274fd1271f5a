/**
 * The Fastly wiring with `fastly:*` replaced by test doubles (vitest.config.ts aliases them to
 * test/doubles/fastly): what is sent to which backend, with which cache mode, what is stored
 * under which cache key with which surrogate keys and TTLs, what gets purged.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { CACHE_KEY_PREFIX, createCoreCache } from '../../../src/hosts/fastly/core-cache.js';
import { createFastlyService } from '../../../src/hosts/fastly/fastly-service.js';
import { CONFIG_STORE, SECRET_STORE } from '../../../src/hosts/fastly/stores.js';
import { coreCacheDouble } from '../../doubles/fastly/cache.js';
import { purgeCalls } from '../../doubles/fastly/compute.js';
import { configStores } from '../../doubles/fastly/config-store.js';
import { secretStores } from '../../doubles/fastly/secret-store.js';
import { shieldSites } from '../../doubles/fastly/shielding.js';

const RENDER_SECRET = 'unit-test-render-secret-0123456789abcdef';
const ADMIN_TOKEN = 'unit-test-admin-token-0123456789abcdef';
const WEBP = 'image/avif,image/webp,*/*;q=0.8';
const IMAGE = new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4]);

interface Sent {
  url: string;
  method: string;
  backend: string;
  cacheMode: string | undefined;
  authorization: string | null;
  range: string | null;
  imageOptimizerOptions?: Record<string, unknown>;
}

/** A fetch with Fastly's `backend` option: records each call and answers like the backends would. */
function fakeBackends(overrides: { renderer?: (req: Request) => Response; store?: (req: Request) => Response } = {}) {
  const sent: Sent[] = [];
  const fetch = async (req: Request, init: RequestInit & { backend?: unknown; cacheOverride?: { mode: string }; imageOptimizerOptions?: Record<string, unknown> }) => {
    const backend = String(init.backend);
    sent.push({
      url: req.url,
      method: req.method,
      backend,
      cacheMode: init.cacheOverride?.mode,
      authorization: req.headers.get('authorization'),
      range: req.headers.get('range'),
      ...(init.imageOptimizerOptions ? { imageOptimizerOptions: init.imageOptimizerOptions } : {}),
    });
    if (backend === 'store') {
      if (overrides.store) return overrides.store(req);
      return req.method === 'PUT' ? new Response(null, { status: 200, headers: { etag: '"x"' } }) : new Response('<Error><Code>NoSuchKey</Code></Error>', { status: 404 });
    }
    if (overrides.renderer) return overrides.renderer(req);
    return new Response(IMAGE, {
      headers: { 'content-type': 'image/webp', etag: '"r1"', 'x-render-source': 'render', 'cache-control': 'public, max-age=31536000' },
    });
  };
  return { sent, fetch };
}

function configure(config: Record<string, string> = {}, secrets: Record<string, string> = {}) {
  configStores[CONFIG_STORE] = {
    AVATAR_CONFIG_JSON: JSON.stringify({
      tenants: {
        demo: {},
        legal: { ttlClass: 'short' },
        legacy: { formats: ['jpeg', 'png'] },
      },
    }),
    ...config,
  };
  secretStores[SECRET_STORE] = { RENDER_SECRET, ADMIN_TOKEN, ...secrets };
}

const STORAGE = { STORAGE: 's3', S3_ENDPOINT: 'http://127.0.0.1:4568', S3_REGION: 'us-east-1', S3_BUCKET: 'avatars' };
const STORAGE_SECRETS = { S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' };

function service(fetch: ReturnType<typeof fakeBackends>['fetch'], logs: string[] = []) {
  return createFastlyService({ fetch: fetch as never, log: (msg) => logs.push(msg) });
}

const get = (path: string, headers: Record<string, string> = {}) => new Request(`http://edge.test${path}`, { headers: { accept: WEBP, ...headers } });

beforeEach(() => {
  coreCacheDouble.reset();
  purgeCalls.length = 0;
  for (const k of Object.keys(shieldSites)) delete shieldSites[k];
  configure();
});

describe('edge role: miss, then hit', () => {
  it('asks the renderer backend for the canonical variant once, and caches it under the canonical key', async () => {
    const { sent, fetch } = fakeBackends();
    const handle = service(fetch);
    const a = await handle(get('/demo/u-42?w=287&utm_source=mail'));
    const b = await handle(get('/demo/u-42?cb=1&W=300'));

    expect(a.status).toBe(200);
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(new Uint8Array(await b.arrayBuffer())).toEqual(IMAGE);
    expect(sent).toEqual([
      {
        url: 'http://renderer/_render/demo/u-42/384x0-inside-q75.webp',
        method: 'GET',
        backend: 'renderer',
        cacheMode: 'pass',
        authorization: `Bearer ${RENDER_SECRET}`,
        range: null,
      },
    ]);
    const key = `${CACHE_KEY_PREFIX}demo/u-42/384x0-inside-q75.webp`;
    const stored = coreCacheDouble.entries.get(key)!;
    expect([...coreCacheDouble.entries.keys()]).toEqual([key]);
    expect(stored.surrogateKeys).toEqual(['t:demo', 'i:demo/u-42', 'v:demo/u-42/384x0-inside-q75.webp']);
    expect(stored.maxAge).toBe(31_536_000_000);
    expect(stored.staleWhileRevalidate).toBe(604_800_000);
  });

  it('passes the gravity to the renderer in the variant name (face crops are rendered there, never at the edge)', async () => {
    const { sent, fetch } = fakeBackends();
    const handle = service(fetch);
    const r = await handle(get('/demo/u-42?w=64&h=64&g=face'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-variant')).toBe('demo/u-42/64x64-cover-gface-q75.webp');
    expect(sent.map((s) => s.url)).toEqual(['http://renderer/_render/demo/u-42/64x64-cover-gface-q75.webp']);
    // The centre crop keeps its name, so it is another object.
    await handle(get('/demo/u-42?w=64&h=64'));
    expect(sent.map((s) => s.url).at(-1)).toBe('http://renderer/_render/demo/u-42/64x64-cover-q75.webp');
  });

  it('answers clients with browser caching headers, Vary, Surrogate-Key and a 304 on a matching ETag', async () => {
    const { fetch } = fakeBackends();
    const handle = service(fetch);
    const r = await handle(get('/demo/u-42?w=64'));
    expect(r.headers.get('cache-control')).toBe('public, max-age=86400, stale-while-revalidate=604800');
    expect(r.headers.get('vary')).toBe('Accept');
    expect(r.headers.get('etag')).toBe('"r1"');
    expect(r.headers.get('surrogate-key')).toBe('t:demo i:demo/u-42 v:demo/u-42/64x0-inside-q75.webp');
    const again = await handle(get('/demo/u-42?w=64', { 'if-none-match': '"r1"' }));
    expect(again.status).toBe(304);
    expect(again.headers.get('x-cache')).toBe('HIT');
    const template = await handle(get('/demo/u-42/64.webp'));
    expect(template.headers.get('vary')).toBeNull();
  });

  it('stores the short TTL class for 60 s with no stale period', async () => {
    const { fetch } = fakeBackends({
      renderer: () => new Response(IMAGE, { headers: { 'content-type': 'image/webp', etag: '"s"', 'cache-control': 'public, max-age=60' } }),
    });
    const r = await service(fetch)(get('/legal/u-1?w=64'));
    expect(r.headers.get('cache-control')).toBe('public, max-age=60');
    const stored = coreCacheDouble.entries.get(`${CACHE_KEY_PREFIX}legal/u-1/64x0-inside-q75.webp`)!;
    expect([stored.maxAge, stored.staleWhileRevalidate]).toEqual([60_000, 0]);
  });

  it('serves a stale copy and refreshes it after the response (waitUntil)', async () => {
    const { sent, fetch } = fakeBackends();
    const handle = service(fetch);
    await handle(get('/demo/u-42?w=64'));
    coreCacheDouble.now += 31_536_000_000 + 1;
    const pending: Promise<unknown>[] = [];
    const r = await handle(get('/demo/u-42?w=64'), { waitUntil: (p) => pending.push(p) });
    expect(r.headers.get('x-cache')).toBe('STALE');
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
    expect(sent).toHaveLength(2);
    expect((await handle(get('/demo/u-42?w=64'))).headers.get('x-cache')).toBe('HIT');
  });

  it('caches nothing when the renderer fails, and releases waiting requests', async () => {
    const { fetch } = fakeBackends({ renderer: () => new Response('boom', { status: 500 }) });
    const r = await service(fetch)(get('/demo/u-42?w=64'));
    expect(r.status).toBe(502);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(coreCacheDouble.entries.size).toBe(0);
    expect(coreCacheDouble.cancels).toEqual([`${CACHE_KEY_PREFIX}demo/u-42/64x0-inside-q75.webp`]);
  });

  it('shares one lookup and one load between concurrent requests for a key in one instance (no self-wait)', async () => {
    const cache = createCoreCache();
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 5));
      return { status: 200, body: IMAGE, contentType: 'image/webp', etag: '"c"', surrogateKeys: ['t:demo'], source: 'render' as const, timings: {} };
    };
    const [a, b] = await Promise.all([cache.getOrLoad('demo/x', load, { ttl: 60, swr: 0 }), cache.getOrLoad('demo/x', load, { ttl: 60, swr: 0 })]);
    expect([a.state, b.state, loads]).toEqual(['MISS', 'MISS', 1]);
    expect(coreCacheDouble.lookups).toEqual([`${CACHE_KEY_PREFIX}demo/x`]);
  });

  it('answers bad requests before any backend or cache is asked', async () => {
    const { sent, fetch } = fakeBackends();
    const handle = service(fetch);
    const bad = await handle(get('/demo/u-42?w=abc'));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'INVALID_PARAMETER' });
    expect((await handle(get('/nobody/u-42'))).status).toBe(404);
    expect(sent).toEqual([]);
    expect(coreCacheDouble.lookups).toEqual([]);
  });

  it('fails closed with a logged 500 when the stores are misconfigured', async () => {
    configure({ AVATAR_CONFIG_JSON: '{not json' });
    const logs: string[] = [];
    const r = await service(fakeBackends().fetch, logs)(get('/demo/u-42'));
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({ code: 'INTERNAL', message: 'internal error' });
    expect(logs.join('\n')).toContain('unhandled error');
  });
});

describe('shielding', () => {
  it('sends misses to the shield POP when this POP is not the shield', async () => {
    configure({ SHIELD_POP: 'iad-va-us' });
    shieldSites['iad-va-us'] = 'remote';
    const { sent, fetch } = fakeBackends();
    await service(fetch)(get('/demo/u-42?w=64'));
    // To our own service at the shield POP: our host name, so that POP runs this service.
    expect(sent.map((s) => [s.backend, s.url, s.authorization])).toEqual([
      ['shield:iad-va-us:encrypted', 'http://edge.test/_render/demo/u-42/64x0-inside-q75.webp', `Bearer ${RENDER_SECRET}`],
    ]);
  });

  it('calls the renderer itself on the shield POP, and when the POP is unknown (local runs)', async () => {
    configure({ SHIELD_POP: 'iad-va-us' });
    shieldSites['iad-va-us'] = 'local';
    const a = fakeBackends();
    await service(a.fetch)(get('/demo/u-42?w=64'));
    expect(a.sent.map((s) => s.backend)).toEqual(['renderer']);

    delete shieldSites['iad-va-us'];
    coreCacheDouble.reset();
    const b = fakeBackends();
    const logs: string[] = [];
    await service(b.fetch, logs)(get('/demo/u-42?w=64'));
    expect(b.sent.map((s) => s.backend)).toEqual(['renderer']);
    expect(logs.join('\n')).toContain("shield POP 'iad-va-us' is unknown here");
  });

  it('answers /_render/* (the shield role) from the cache, then the renderer, never the shield again', async () => {
    configure({ SHIELD_POP: 'iad-va-us' });
    shieldSites['iad-va-us'] = 'remote';
    const { sent, fetch } = fakeBackends();
    const handle = service(fetch);
    const path = '/_render/demo/u-42/64x0-inside-q75.webp';
    const req = () => new Request(`http://edge.test${path}`, { headers: { authorization: `Bearer ${RENDER_SECRET}` } });
    const r = await handle(req());
    expect(r.status).toBe(200);
    expect(r.headers.get('x-render-source')).toBe('render');
    expect(r.headers.get('surrogate-key')).toBe('t:demo i:demo/u-42 v:demo/u-42/64x0-inside-q75.webp');
    await handle(req());
    expect(sent.map((s) => s.backend)).toEqual(['renderer']);
    expect([...coreCacheDouble.entries.keys()]).toEqual([`${CACHE_KEY_PREFIX}demo/u-42/64x0-inside-q75.webp`]);

    const wrong = await handle(new Request(`http://edge.test${path}`, { headers: { authorization: 'Bearer nope' } }));
    expect(wrong.status).toBe(401);
  });
});

describe('admin purges', () => {
  it('purges surrogate keys with purgeSurrogateKey (hard and soft) and writes the audit entry to the bucket', async () => {
    configure(STORAGE, STORAGE_SECRETS);
    const { sent, fetch } = fakeBackends();
    const handle = service(fetch);
    await handle(get('/demo/u-42?w=64'));
    const purge = (body: unknown) =>
      handle(new Request('http://edge.test/_admin/purge', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }));

    const soft = await purge({ keys: ['i:demo/u-42'], soft: true });
    expect(soft.status).toBe(200);
    expect((await handle(get('/demo/u-42?w=64'))).headers.get('x-cache')).toBe('STALE');
    const hard = await purge({ keys: ['t:demo', 'v:demo/u-42/64x0-inside-q75.webp'] });
    expect(hard.status).toBe(200);
    expect(purgeCalls).toEqual([
      { key: 'i:demo/u-42', soft: true },
      { key: 't:demo', soft: false },
      { key: 'v:demo/u-42/64x0-inside-q75.webp', soft: false },
    ]);
    expect(coreCacheDouble.entries.size).toBe(0);
    const audits = sent.filter((s) => s.backend === 'store' && s.method === 'PUT');
    expect(audits).toHaveLength(2);
    expect(new URL(audits[0]!.url).pathname).toMatch(/^\/avatars\/audit\//);
    expect(audits[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=S3RVER\//);
  });

  it('refuses without a token, and without a bucket for the audit log', async () => {
    const { fetch } = fakeBackends();
    const handle = service(fetch);
    const req = (auth?: string) => new Request('http://edge.test/_admin/purge', { method: 'POST', headers: auth ? { authorization: auth } : {}, body: '{"keys":["t:demo"]}' });
    expect((await handle(req())).status).toBe(401);
    const noBucket = await handle(req(`Bearer ${ADMIN_TOKEN}`));
    expect(noBucket.status).toBe(503);
    expect(purgeCalls).toEqual([]);
  });
});

describe('formats without WebP', () => {
  // An RGBA PNG's first bytes: signature + IHDR (colour type 6).
  const PNG_RGBA = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 1, 0, 0, 0, 1, 0, 8, 6, 0, 0, 0, 0, 0, 0, 0]);

  it('probes the original header (64 KiB range) in the bucket and picks PNG for alpha; remembers the answer', async () => {
    configure(STORAGE, STORAGE_SECRETS);
    const { sent, fetch } = fakeBackends({ store: () => new Response(PNG_RGBA, { status: 206, headers: { 'content-range': `bytes 0-32/5000` } }) });
    const handle = service(fetch);
    const r = await handle(get('/legacy/u-7?w=64', { accept: 'image/jpeg,image/png,*/*' }));
    expect(r.headers.get('x-variant')).toBe('legacy/u-7/64x0-inside-q100.png');
    await handle(get('/legacy/u-7?w=128', { accept: '*/*' }));
    const probes = sent.filter((s) => s.backend === 'store');
    expect(probes).toHaveLength(1);
    expect(probes[0]!.range).toBe('bytes=0-65535');
    expect(new URL(probes[0]!.url).pathname).toMatch(/^\/avatars\/originals\/legacy\/[0-9a-f]{2}\/u-7$/);
    expect(coreCacheDouble.entries.get(`${CACHE_KEY_PREFIX}alpha:legacy/u-7`)!.surrogateKeys).toEqual(['t:legacy', 'i:legacy/u-7']);
  });

  it('picks PNG when there is no bucket to look at (right pixels, more bytes)', async () => {
    const { fetch } = fakeBackends();
    const r = await service(fetch)(get('/legacy/u-7?w=64', { accept: '*/*' }));
    expect(r.headers.get('x-variant')).toBe('legacy/u-7/64x0-inside-q100.png');
  });
});

describe('Image Optimizer mode', () => {
  it('checks the tombstone, then reads the original through Image Optimizer with the variant as options', async () => {
    configure({ ...STORAGE, RENDER_MODE: 'image-optimizer', IMAGE_OPTIMIZER_REGION: 'eu_central' }, STORAGE_SECRETS);
    const { sent, fetch } = fakeBackends({
      store: (req) => (req.method === 'HEAD' ? new Response(null, { status: 404 }) : new Response(IMAGE, { headers: { 'content-type': 'image/webp' } })),
    });
    const r = await service(fetch)(get('/demo/u-42?w=100&h=100'));
    expect(r.status).toBe(200);
    expect(sent.map((s) => [s.method, new URL(s.url).pathname.split('/').slice(0, 3).join('/'), s.backend])).toEqual([
      ['HEAD', '/avatars/tombstones', 'store'],
      ['GET', '/avatars/originals', 'store'],
    ]);
    expect(sent[1]!.imageOptimizerOptions).toEqual({ region: 'eu_central', format: 'webp', quality: 75, width: 128, height: 128, fit: 'crop', enable: 'upscale' });
    expect(sent.some((s) => s.backend === 'renderer')).toBe(false);
  });

  it('asks Image Optimizer for its content-aware crop when the variant has a face/auto gravity', async () => {
    configure({ ...STORAGE, RENDER_MODE: 'image-optimizer', IMAGE_OPTIMIZER_REGION: 'eu_central' }, STORAGE_SECRETS);
    const { sent, fetch } = fakeBackends({
      store: (req) => (req.method === 'HEAD' ? new Response(null, { status: 404 }) : new Response(IMAGE, { headers: { 'content-type': 'image/webp' } })),
    });
    expect((await service(fetch)(get('/demo/u-42?w=100&h=100&g=face'))).status).toBe(200);
    expect(sent[1]!.imageOptimizerOptions).toMatchObject({ width: 128, height: 128, fit: 'crop', crop: { size: { ratio: { width: 128, height: 128 } }, mode: 'smart' } });
  });
});
