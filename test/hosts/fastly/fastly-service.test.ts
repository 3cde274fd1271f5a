/**
 * The Fastly wiring with `fastly:*` replaced by test doubles (vitest.config.ts aliases them to
 * test/doubles/fastly): what is sent to which backend, with which cache mode, what is stored
 * under which cache key with which surrogate keys and TTLs, what gets purged.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { shardOf } from '../../../src/core/storage-keys.js';
import { FACTS_KEY_PREFIX } from '../../../src/hosts/fastly/original-facts-probe.js';
import { CACHE_KEY_PREFIX, createCoreCache } from '../../../src/hosts/fastly/core-cache.js';
import { createFastlyService } from '../../../src/hosts/fastly/fastly-service.js';
import { SETTINGS_MAX_AGE_MS } from '../../../src/hosts/fastly/settings-memo.js';
import { signUrl } from '../../../src/core/auth/sign-url.js';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { CONFIG_STORE, SECRET_STORE } from '../../../src/hosts/fastly/stores.js';
import { staticBackends } from '../../doubles/fastly/backend.js';
import { coreCacheDouble } from '../../doubles/fastly/cache.js';
import { erlDouble } from '../../doubles/fastly/edge-rate-limiter.js';
import { loggedLines } from '../../doubles/fastly/logger.js';
import { cpuClock, purgeCalls } from '../../doubles/fastly/compute.js';
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
  execution: string | null;
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
      execution: req.headers.get('x-avatar-edge-execution'),
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
        modern: { formats: ['webp', 'jpeg', 'png', 'avif'] },
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
  erlDouble.reset();
  loggedLines.length = 0;
  purgeCalls.length = 0;
  cpuClock.ms = 0;
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
        execution: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    ]);
    const key = `${CACHE_KEY_PREFIX}demo/u-42/384x0-inside-q75.webp`;
    const stored = coreCacheDouble.entries.get(key)!;
    expect([...coreCacheDouble.entries.keys()]).toEqual([key]);
    expect(stored.surrogateKeys).toEqual(['t:demo', 'i:demo/u-42', 'v:demo/u-42/384x0-inside-q75.webp']);
    expect(stored.maxAge).toBe(31_536_000_000);
    // A week of stale-while-revalidate, then a day of stale-if-error (cache.edgeStaleIfError).
    expect(stored.staleWhileRevalidate).toBe(604_800_000 + 86_400_000);
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

  it('stores the short TTL class for 60 s with no stale-while-revalidate, only the stale-if-error day', async () => {
    const { fetch } = fakeBackends({
      renderer: () => new Response(IMAGE, { headers: { 'content-type': 'image/webp', etag: '"s"', 'cache-control': 'public, max-age=60' } }),
    });
    const r = await service(fetch)(get('/legal/u-1?w=64'));
    expect(r.headers.get('cache-control')).toBe('public, max-age=60');
    const stored = coreCacheDouble.entries.get(`${CACHE_KEY_PREFIX}legal/u-1/64x0-inside-q75.webp`)!;
    expect([stored.maxAge, stored.staleWhileRevalidate]).toEqual([60_000, 86_400_000]);
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

describe('one sandbox, many requests (reusable sandboxes)', () => {
  const KEY_1 = 'unit-test-signing-key-one-0123456789';
  const KEY_2 = 'unit-test-signing-key-two-0123456789';
  const signed = async (kid: string, key: string) => {
    const tenant = loadServiceConfig({ tenants: { secure: { requireSignature: true, keys: { [kid]: key } } } }).tenants.get('secure')!;
    return (await signUrl({ tenant, id: 'u-1', params: { w: 64 }, kid })).url;
  };
  const withKeys = (keys: Record<string, string>) =>
    configure({ AVATAR_CONFIG_JSON: JSON.stringify({ tenants: { demo: {}, secure: { requireSignature: true } } }) }, { TENANT_KEYS_JSON: JSON.stringify({ secure: keys }) });

  it('gives each request its own BACKEND_REQUEST_LIMIT budget and execution id', async () => {
    // Shield down: each miss costs two backend requests (the shield, then the renderer), the whole budget of 2.
    configure({ SHIELD_POP: 'iad-va-us', BACKEND_REQUEST_LIMIT: '2' });
    shieldSites['iad-va-us'] = 'remote';
    const backends = fakeBackends({
      renderer: (req) =>
        new URL(req.url).pathname.startsWith('/_render/') && req.url.startsWith('http://renderer/')
          ? new Response(IMAGE, { headers: { 'content-type': 'image/webp', etag: '"r"' } })
          : new Response('down', { status: 503 }),
    });
    const handle = service(backends.fetch);
    const answers = [];
    for (const id of ['u-1', 'u-2', 'u-3']) answers.push(await handle(get(`/demo/${id}?w=64`)));
    expect(answers.map((r) => [r.status, r.headers.get('x-cache')])).toEqual([
      [200, 'MISS'],
      [200, 'MISS'],
      [200, 'MISS'],
    ]);
    expect(backends.sent.map((s) => s.backend)).toEqual(Array(3).fill(['shield:iad-va-us:encrypted', 'renderer']).flat());
    const executions = backends.sent.map((s) => s.execution);
    expect(new Set(executions).size).toBe(3);
    expect(executions[0]).toBe(executions[1]);
  });

  it('reports each request its own vCPU time, not the sandbox total', async () => {
    const backends = fakeBackends({
      renderer: () => {
        cpuClock.ms += 7; // the miss's work
        return new Response(IMAGE, { headers: { 'content-type': 'image/webp', etag: '"r"' } });
      },
    });
    const handle = service(backends.fetch);
    cpuClock.ms = 40; // earlier requests of this sandbox
    const miss = await handle(get('/demo/u-42?w=64'));
    const hit = await handle(get('/demo/u-42?w=64'));
    expect(miss.headers.get('server-timing')).toMatch(/, cpu;dur=7$/);
    expect(hit.headers.get('server-timing')).toMatch(/, cpu;dur=0$/);
    expect(loggedLines.map((l) => (JSON.parse(l.message) as { cpu: number }).cpu)).toEqual([7, 0]);
  });

  it('answers a warm HIT, signed or not, in hand (a Response, not a Promise): same status, headers, bytes and log line', async () => {
    withKeys({ k1: KEY_1 });
    const url = await signed('k1', KEY_1);
    const backends = fakeBackends({ renderer: () => new Response(IMAGE, { headers: { 'content-type': 'image/webp', etag: '"r"' } }) });
    const handle = service(backends.fetch);
    for (const path of ['/demo/u-42?w=64', url]) {
      const miss = await handle(get(path));
      expect(miss.headers.get('x-cache')).toBe('MISS');
      const hit = handle(get(path));
      // No turn of the event loop: settings, resolved URL and cache entry were all in hand.
      expect(hit).toBeInstanceOf(Response);
      const res = hit as Response;
      expect([res.status, res.headers.get('x-cache'), res.headers.get('content-length'), res.headers.get('etag')]).toEqual([200, 'HIT', String(IMAGE.byteLength), miss.headers.get('etag')]);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(IMAGE));
    }
    expect(loggedLines.map((l) => JSON.parse(l.message) as { status: number; cache: string; tenant: string })).toMatchObject([
      { status: 200, cache: 'MISS', tenant: 'demo' },
      { status: 200, cache: 'HIT', tenant: 'demo' },
      { status: 200, cache: 'MISS', tenant: 'secure' },
      { status: 200, cache: 'HIT', tenant: 'secure' },
    ]);
  });

  it(`reuses the settings it read for ${SETTINGS_MAX_AGE_MS / 1000} s, then applies a rotated signing key`, async () => {
    let wall = 1_000_000;
    const handle = createFastlyService({ fetch: fakeBackends().fetch as never, log: () => {}, now: () => wall });
    withKeys({ k1: KEY_1 });
    const oldUrl = await signed('k1', KEY_1);
    const newUrl = await signed('k2', KEY_2);
    expect((await handle(get(oldUrl))).status).toBe(200);
    withKeys({ k2: KEY_2 }); // rotated in the Secret Store
    wall += SETTINGS_MAX_AGE_MS - 1;
    expect((await handle(get(oldUrl))).status).toBe(200);
    expect((await handle(get(newUrl))).status).toBe(403);
    wall += 1;
    expect((await handle(get(oldUrl))).status).toBe(403);
    expect((await handle(get(newUrl))).status).toBe(200);
  });

  it('never keeps settings that failed: a fixed store applies on the next request', async () => {
    let wall = 0;
    const handle = createFastlyService({ fetch: fakeBackends().fetch as never, log: () => {}, now: () => wall });
    configure({ AVATAR_CONFIG_JSON: '{not json' });
    expect((await handle(get('/demo/u-42?w=64'))).status).toBe(500);
    configure();
    wall += 1;
    expect((await handle(get('/demo/u-42?w=64'))).status).toBe(200);
  });
});

describe('stale-if-error', () => {
  const YEAR = 31_536_000_000;
  const WEEK = 604_800_000;
  const DAY = 86_400_000;
  /** A renderer that works until `down` is set, then fails the way `down` says. */
  function flakyRenderer() {
    const ctl = { down: undefined as undefined | 'unreachable' | 500 | 404, body: IMAGE };
    const backends = fakeBackends({
      renderer: (req) => {
        if (ctl.down === 'unreachable') throw new TypeError('connection refused');
        if (ctl.down) return new Response(JSON.stringify({ code: 'X', message: 'down' }), { status: ctl.down });
        const maxAge = new URL(req.url).pathname.startsWith('/_render/legal/') ? 60 : 31_536_000;
        return new Response(ctl.body, { headers: { 'content-type': 'image/webp', etag: `"${ctl.body.length}"`, 'cache-control': `public, max-age=${maxAge}` } });
      },
    });
    return { ctl, ...backends };
  }

  it('past TTL + SWR, answers the stale copy with a reason when the renderer cannot be reached, and keeps it', async () => {
    const { ctl, sent, fetch } = flakyRenderer();
    const logs: string[] = [];
    const handle = service(fetch, logs);
    await handle(get('/demo/u-42?w=64'));
    coreCacheDouble.now += YEAR + WEEK + 1;
    ctl.down = 'unreachable';
    const r = await handle(get('/demo/u-42?w=64'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('STALE');
    expect(r.headers.get('x-stale-reason')).toBe('RENDERER_UNREACHABLE');
    expect(r.headers.get('cache-control')).toBe('public, max-age=60');
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(IMAGE);
    // The renderer was asked (synchronously, not after the response), the stale object stays.
    expect(sent).toHaveLength(2);
    expect(coreCacheDouble.entries.size).toBe(1);
    expect(logs.join('\n')).toContain('serving stale demo/u-42/64x0-inside-q75.webp (RENDERER_UNREACHABLE)');
    // Once the renderer is back, the next request renders and stores a fresh copy.
    ctl.down = undefined;
    ctl.body = new Uint8Array([9, 9, 9]);
    const back = await handle(get('/demo/u-42?w=64'));
    expect([back.headers.get('x-cache'), back.headers.get('x-stale-reason')]).toEqual(['MISS', null]);
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(ctl.body);
    expect((await handle(get('/demo/u-42?w=64'))).headers.get('x-cache')).toBe('HIT');
  });

  it('covers short-TTL tenants (no SWR) and renderer 5xx answers', async () => {
    const { ctl, fetch } = flakyRenderer();
    const handle = service(fetch);
    await handle(get('/legal/u-1?w=64'));
    coreCacheDouble.now += 60_001;
    ctl.down = 500;
    const r = await handle(get('/legal/u-1?w=64'));
    expect([r.status, r.headers.get('x-cache'), r.headers.get('x-stale-reason')]).toEqual([200, 'STALE', 'RENDERER_ERROR']);
  });

  it('passes a 404 from the renderer on (an answer, not a failure), and gives 502 once the window is over', async () => {
    const { ctl, fetch } = flakyRenderer();
    const handle = service(fetch);
    await handle(get('/demo/u-42?w=64'));
    await handle(get('/demo/u-43?w=64'));
    coreCacheDouble.now += YEAR + WEEK + 1;
    ctl.down = 404;
    expect((await handle(get('/demo/u-42?w=64'))).status).toBe(404);
    coreCacheDouble.now += DAY;
    ctl.down = 'unreachable';
    const gone = await handle(get('/demo/u-43?w=64'));
    expect(gone.status).toBe(502);
    expect(await gone.json()).toMatchObject({ code: 'RENDERER_UNREACHABLE' });
  });

  it('serves nothing stale after a hard purge (takedowns), and follows cache.edgeStaleIfError', async () => {
    const { ctl, fetch } = flakyRenderer();
    let wall = 0;
    const handle = createFastlyService({ fetch: fetch as never, log: () => {}, now: () => wall });
    await handle(get('/demo/u-42?w=64'));
    coreCacheDouble.purge('i:demo/u-42', false);
    ctl.down = 'unreachable';
    expect((await handle(get('/demo/u-42?w=64'))).status).toBe(502);

    coreCacheDouble.reset();
    configure({ AVATAR_CONFIG_JSON: JSON.stringify({ cache: { edgeStaleIfError: 30 }, tenants: { legal: { ttlClass: 'short' } } }) });
    wall += SETTINGS_MAX_AGE_MS; // the sandbox reads the changed store
    ctl.down = undefined;
    await handle(get('/legal/u-1?w=64'));
    expect(coreCacheDouble.entries.values().next().value!.staleWhileRevalidate).toBe(30_000);
    ctl.down = 'unreachable';
    coreCacheDouble.now += 60_000 + 29_000;
    expect((await handle(get('/legal/u-1?w=64'))).headers.get('x-cache')).toBe('STALE');
    coreCacheDouble.now += 2_000;
    expect((await handle(get('/legal/u-1?w=64'))).status).toBe(502);
  });
});

describe('request logs (fastly:logger)', () => {
  it('writes one JSON line per request to avatar_edge_log: tenant, variant, cache state, status, error code, timings, POP', async () => {
    const { fetch } = fakeBackends();
    const handle = service(fetch);
    const signedLooking = '/demo/u-42?w=64&sig=SECRETSIG&exp=99';
    await handle(get(signedLooking), { clientAddress: '192.0.2.7' });
    await handle(get('/demo/u-42?w=64'));
    await handle(get('/demo/u-42?w=abc'));
    expect(loggedLines.map((l) => l.endpoint)).toEqual(['avatar_edge_log', 'avatar_edge_log', 'avatar_edge_log']);
    const lines = loggedLines.map((l) => JSON.parse(l.message) as Record<string, unknown>);
    // The access log's shape on every host (observability/access-log.ts, what `npm run report`
    // reads), plus the POP, the vCPU time and, for errors, the code.
    expect(lines[0]).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      method: 'GET',
      url: '/demo/u-42?w=64&sig=-&exp=99',
      route: 'image',
      status: 200,
      tenant: 'demo',
      id: 'u-42',
      variant: 'demo/u-42/64x0-inside-q75.webp',
      cache: 'MISS',
      bytes: expect.any(Number),
      durationMs: expect.any(Number),
      timings: expect.any(Object),
      dropped: [],
      pop: 'TST',
      cpu: 0,
    });
    expect(lines[1]).toMatchObject({ cache: 'HIT', status: 200 });
    expect(lines[2]).toMatchObject({ route: 'image', tenant: 'demo', status: 400, code: 'INVALID_PARAMETER' });
    // No signature values and no client addresses in the logs.
    expect(loggedLines.map((l) => l.message).join('\n')).not.toMatch(/SECRETSIG|192\.0\.2\.7/);
    // The error answer itself is unchanged by being read for its code.
    const bad = await handle(get('/demo/u-42?w=abc'));
    expect(await bad.json()).toMatchObject({ code: 'INVALID_PARAMETER' });
  });

  it('logs stale answers with their reason, and never fails a request because the logger does', async () => {
    const lines: Record<string, unknown>[] = [];
    let down = false;
    const { fetch } = fakeBackends({ renderer: () => (down ? new Response('x', { status: 503 }) : new Response(IMAGE, { headers: { 'content-type': 'image/webp', etag: '"a"' } })) });
    const handle = createFastlyService({ fetch: fetch as never, log: () => {}, requestLog: (l) => lines.push({ ...l }) });
    await handle(get('/demo/u-42?w=64'));
    coreCacheDouble.now += 31_536_000_000 + 604_800_000 + 1;
    down = true;
    await handle(get('/demo/u-42?w=64'));
    expect(lines[1]).toMatchObject({ cache: 'STALE', stale: 'RENDERER_ERROR', status: 200 });
    const broken = createFastlyService({
      fetch: fetch as never,
      log: () => {},
      requestLog: () => {
        throw new Error('log endpoint down');
      },
    });
    expect((await broken(get('/demo/u-42?w=64'))).status).toBe(200);
  });
});

describe('rate limits at the POP (fastly:edge-rate-limiter)', () => {
  const limits = (o: unknown) => configure({ RATE_LIMITS_JSON: JSON.stringify(o) });

  it('answers 429 with Retry-After past the per-IP rate, keeps the IP in the penalty box, and counts per tenant and IP', async () => {
    limits({ clientRps: 1, clientWindow: 1, penaltyMinutes: 2, tenants: { legacy: { clientRps: 50 } } });
    const { sent, fetch } = fakeBackends();
    const handle = service(fetch);
    const from = (ip: string, path = '/demo/u-42?w=64') => handle(get(path), { clientAddress: ip });
    expect((await from('192.0.2.1')).status).toBe(200);
    const limited = await from('192.0.2.1');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('120');
    expect(limited.headers.get('cache-control')).toBe('no-store');
    expect(await limited.json()).toEqual({ code: 'RATE_LIMITED', message: 'too many requests from this address; retry in 120 s' });
    // Penalty box: refused without being counted again.
    const calls = erlDouble.calls.length;
    expect((await from('192.0.2.1')).status).toBe(429);
    expect(erlDouble.calls.length).toBe(calls);
    // Another address, and another tenant with its own higher limit, are not affected.
    expect((await from('192.0.2.2')).status).toBe(200);
    expect((await from('192.0.2.1', '/legacy/u-1?w=64')).status).toBe(200);
    expect(erlDouble.calls).toContain('checkRate avatar_edge_clients legacy|192.0.2.1 1 50 2');
    expect(sent.map((s) => s.backend)).toEqual(['renderer', 'renderer']);
  });

  it('does not limit /_render/* (other POPs call it) nor requests without a client address', async () => {
    limits({ clientRps: 1, clientWindow: 1 });
    const { fetch } = fakeBackends();
    const handle = service(fetch);
    for (let i = 0; i < 3; i++) expect((await handle(get('/demo/u-42?w=64'))).status).toBe(200);
    const render = () => new Request('http://edge.test/_render/demo/u-42/64x0-inside-q75.webp', { headers: { authorization: `Bearer ${RENDER_SECRET}` } });
    for (let i = 0; i < 3; i++) expect((await handle(render(), { clientAddress: '192.0.2.9' })).status).toBe(200);
  });

  it('spends a per-tenant render budget on misses only: over it 503 RENDER_BUDGET, hits still served, stale copies served', async () => {
    limits({ tenants: { demo: { rendersPerMinute: 2 } } });
    const { sent, fetch } = fakeBackends();
    const handle = service(fetch);
    expect((await handle(get('/demo/u-1?w=64'))).status).toBe(200);
    expect((await handle(get('/demo/u-2?w=64'))).status).toBe(200);
    const over = await handle(get('/demo/u-3?w=64'));
    expect(over.status).toBe(503);
    expect(over.headers.get('retry-after')).toBe('60');
    expect(await over.json()).toMatchObject({ code: 'RENDER_BUDGET' });
    expect((await handle(get('/demo/u-1?w=64'))).headers.get('x-cache')).toBe('HIT');
    // Other tenants have their own budget (the default).
    expect((await handle(get('/legacy/u-3?w=64'))).status).toBe(200);
    expect(sent.map((s) => new URL(s.url).pathname)).toEqual(['/_render/demo/u-1/64x0-inside-q75.webp', '/_render/demo/u-2/64x0-inside-q75.webp', '/_render/legacy/u-3/64x0-inside-q100.png']);
    // An expired object past its SWR is served stale rather than refused.
    coreCacheDouble.now += 31_536_000_000 + 604_800_000 + 1;
    const stale = await handle(get('/demo/u-2?w=64'));
    expect([stale.status, stale.headers.get('x-cache'), stale.headers.get('x-stale-reason')]).toEqual([200, 'STALE', 'RENDER_BUDGET']);
    expect(sent).toHaveLength(3);
  });

  it('the shield role spends its own budget and marks its refusal (x-render-budget) for the edges', async () => {
    limits({ rendersPerMinute: 1 });
    const { sent, fetch } = fakeBackends();
    const handle = service(fetch);
    const render = (v: string) => handle(new Request(`http://edge.test/_render/demo/u-42/${v}`, { headers: { authorization: `Bearer ${RENDER_SECRET}` } }));
    expect((await render('64x0-inside-q75.webp')).status).toBe(200);
    const refused = await render('96x0-inside-q75.webp');
    expect([refused.status, refused.headers.get('x-render-budget'), refused.headers.get('retry-after')]).toEqual([503, 'exceeded', '60']);
    expect(sent).toHaveLength(1);
  });

  it('a shield fallback spends the edge budget; a shield refusing for its budget is passed on, not gone around', async () => {
    configure({ SHIELD_POP: 'iad-va-us', RATE_LIMITS_JSON: JSON.stringify({ rendersPerMinute: 1 }) });
    shieldSites['iad-va-us'] = 'remote';
    let shieldAnswer = () => new Response('{}', { status: 503 });
    const { sent, fetch } = fakeBackends();
    const viaShield = (req: Request, init: Parameters<typeof fetch>[1]) =>
      String(init.backend).startsWith('shield:') ? (sent.push({ backend: String(init.backend) } as Sent), Promise.resolve(shieldAnswer())) : fetch(req, init);
    const handle = service(viaShield as never);
    expect((await handle(get('/demo/u-1?w=64'))).status).toBe(200);
    const over = await handle(get('/demo/u-2?w=64'));
    expect(over.status).toBe(503);
    expect(await over.json()).toMatchObject({ code: 'RENDER_BUDGET' });
    expect(sent.map((s) => s.backend)).toEqual(['shield:iad-va-us:encrypted', 'renderer', 'shield:iad-va-us:encrypted']);

    shieldAnswer = () => new Response('{"code":"RENDER_BUDGET"}', { status: 503, headers: { 'x-render-budget': 'exceeded' } });
    erlDouble.reset();
    sent.length = 0;
    expect((await handle(get('/demo/u-3?w=64'))).status).toBe(502);
    expect(sent.map((s) => s.backend)).toEqual(['shield:iad-va-us:encrypted']);
  });
});

describe('shielding', () => {
  it('sends misses to the shield POP when this POP is not the shield', async () => {
    configure({ SHIELD_POP: 'iad-va-us' });
    shieldSites['iad-va-us'] = 'remote';
    const { sent, fetch } = fakeBackends();
    await service(fetch)(get('/demo/u-42?w=64'));
    // To our own service at the shield POP: our host name, so that POP runs this service.
    expect(sent.map((s) => [s.backend, s.url, s.authorization])).toEqual([['shield:iad-va-us:encrypted', 'http://edge.test/_render/demo/u-42/64x0-inside-q75.webp', `Bearer ${RENDER_SECRET}`]]);
  });

  it('falls back to the renderer once, logged, when the shield POP cannot be reached or answers 5xx', async () => {
    configure({ SHIELD_POP: 'iad-va-us' });
    shieldSites['iad-va-us'] = 'remote';
    for (const shield of [() => Promise.reject(new TypeError('connection refused')), () => Promise.resolve(new Response('{}', { status: 503 }))]) {
      coreCacheDouble.reset();
      const { sent, fetch } = fakeBackends();
      const logs: string[] = [];
      const viaShieldFirst = (req: Request, init: Parameters<typeof fetch>[1]) =>
        String(init.backend).startsWith('shield:') ? (sent.push({ backend: String(init.backend) } as Sent), shield()) : fetch(req, init);
      const handle = service(viaShieldFirst as never, logs);
      const r = await handle(get('/demo/u-42?w=64'));
      expect([r.status, r.headers.get('x-cache')]).toEqual([200, 'MISS']);
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(IMAGE);
      expect(sent.map((s) => s.backend)).toEqual(['shield:iad-va-us:encrypted', 'renderer']);
      // The direct request is the renderer's own: its path and bearer secret, not our host name.
      expect([sent[1]!.url, sent[1]!.authorization]).toEqual(['http://renderer/_render/demo/u-42/64x0-inside-q75.webp', `Bearer ${RENDER_SECRET}`]);
      expect(logs.join('\n')).toMatch(/shield POP 'iad-va-us' (failed: connection refused|answered 503): calling the renderer directly \(shield fallback\)/);
    }
  });

  it('passes a 4xx from the shield on, and counts both requests against BACKEND_REQUEST_LIMIT when both fail', async () => {
    configure({ SHIELD_POP: 'iad-va-us', BACKEND_REQUEST_LIMIT: '2' });
    shieldSites['iad-va-us'] = 'remote';
    const missing = fakeBackends({ renderer: () => new Response(JSON.stringify({ code: 'NOT_FOUND', message: 'no image' }), { status: 404 }) });
    const r = await service(missing.fetch)(get('/demo/u-42?w=64'));
    expect(r.status).toBe(404);
    expect(missing.sent.map((s) => s.backend)).toEqual(['shield:iad-va-us:encrypted']);

    const down = fakeBackends({ renderer: () => new Response('down', { status: 503 }) });
    const failed = await service(down.fetch)(get('/demo/u-43?w=64'));
    expect(failed.status).toBe(502);
    expect(down.sent.map((s) => s.backend)).toEqual(['shield:iad-va-us:encrypted', 'renderer']);
    expect(new Set(down.sent.map((s) => s.execution)).size).toBe(1);
  });

  it('serves the stale copy when shield and renderer both fail past the SWR window (budget spent)', async () => {
    configure({ SHIELD_POP: 'iad-va-us', BACKEND_REQUEST_LIMIT: '2' });
    shieldSites['iad-va-us'] = 'remote';
    const ok = fakeBackends();
    await service(ok.fetch)(get('/demo/u-42?w=64'));
    coreCacheDouble.now += 31_536_000_000 + 604_800_000 + 1;
    const down = fakeBackends({ renderer: () => new Response('down', { status: 503 }) });
    const r = await service(down.fetch)(get('/demo/u-42?w=64'));
    expect([r.status, r.headers.get('x-cache'), r.headers.get('x-stale-reason')]).toEqual([200, 'STALE', 'RENDERER_ERROR']);
    expect(down.sent.map((s) => s.backend)).toEqual(['shield:iad-va-us:encrypted', 'renderer']);
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

  it('keeps a takedown within BACKEND_REQUEST_LIMIT even when every store read fails and is retried: 500 INCOMPLETE, audit entry written', async () => {
    configure({ ...STORAGE, BACKEND_REQUEST_LIMIT: '6' }, STORAGE_SECRETS);
    // PUTs succeed; every read answers 500 (retried three times each by the admin operations).
    const { sent, fetch } = fakeBackends({
      store: (req) => (req.method === 'PUT' ? new Response(null, { status: 200 }) : new Response('<Error><Code>InternalError</Code></Error>', { status: 500 })),
    });
    const handle = service(fetch);
    const res = await handle(
      new Request('http://edge.test/_admin/takedown', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenant: 'demo', id: 'u-9', reason: 'r', ticket: 't' }),
      }),
    );
    const body = (await res.json()) as { code: string; ok: boolean; message: string; audit: { id?: string } };
    expect(res.status).toBe(500);
    // At 6 a takedown is split (8 do not fit one execution); its first call fails, naming step and store.
    expect(body).toMatchObject({ code: 'INCOMPLETE', ok: false });
    expect(body.message).toMatch(/^incomplete: (list|delete|tombstone) on primary/);
    expect(JSON.stringify(body)).toMatch(/BACKEND_REQUEST_LIMIT/);
    expect(body.audit.id).toEqual(expect.any(String));
    expect(sent).toHaveLength(6);
    expect(new Set(sent.map((s) => s.execution)).size).toBe(1);
    expect(sent[0]!.execution).toMatch(/^[0-9a-f-]{36}$/);
    // The last request is the audit entry, kept in reserve; no renderer request at all.
    expect(sent.at(-1)).toMatchObject({ backend: 'store', method: 'PUT' });
    expect(new URL(sent.at(-1)!.url).pathname).toMatch(/^\/avatars\/audit\//);
    expect(sent.filter((s) => s.backend !== 'store')).toEqual([]);
  });

  it('sends one execution id per request on every backend request', async () => {
    const { sent, fetch } = fakeBackends();
    const handle = service(fetch);
    await handle(get('/demo/u-1?w=64'));
    await handle(get('/demo/u-2?w=64'));
    expect(sent).toHaveLength(2);
    expect(sent[0]!.execution).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent[1]!.execution).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent[0]!.execution).not.toBe(sent[1]!.execution);
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

  it('refuses to use a bucket whose backend Host disagrees with the signed host, before any store request', async () => {
    configure({ STORAGE: 's3', S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com', S3_REGION: 'eu-west-1', S3_BUCKET: 'avatars' }, STORAGE_SECRETS);
    staticBackends.store = { target: 's3.eu-west-1.amazonaws.com', hostOverride: 's3.eu-west-1.amazonaws.com' };
    try {
      const { sent, fetch } = fakeBackends();
      const errors: string[] = [];
      const handle = createFastlyService({ fetch: fetch as never, log: (msg, err) => errors.push(`${msg}: ${(err as Error)?.message}`) });
      const req = () => new Request('http://edge.test/_admin/purge', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: '{"keys":["t:demo"]}' });
      const r = await handle(req());
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ code: 'INTERNAL', message: 'internal error' });
      expect(errors.join('\n')).toContain("backend 'store' sends Host 's3.eu-west-1.amazonaws.com' but S3_ENDPOINT/S3_BUCKET sign virtual-hosted requests for 'avatars.s3.eu-west-1.amazonaws.com'");
      expect(sent).toEqual([]);
      expect(purgeCalls).toEqual([]);
      // With the backend at the bucket host, the same call goes through.
      staticBackends.store = { target: 'avatars.s3.eu-west-1.amazonaws.com', hostOverride: '' };
      expect((await handle(req())).status).toBe(200);
    } finally {
      delete staticBackends.store;
    }
  });
});

/**
 * Two buckets behind the `store` and `store_secondary` backends, with just enough S3 for the
 * admin API (PUT, HEAD, GET, DELETE, ListObjectsV2, DeleteObjects): a takedown's requests
 * are counted per backend and the buckets' contents checked afterwards.
 */
function fakeBuckets() {
  const buckets: Record<string, Map<string, Uint8Array>> = { store: new Map(), store_secondary: new Map() };
  const answer = async (backend: string, req: Request): Promise<Response> => {
    const objects = buckets[backend]!;
    const url = new URL(req.url);
    const key = decodeURIComponent(url.pathname.split('/').slice(2).join('/'));
    if (req.method === 'PUT') {
      objects.set(key, new Uint8Array(await req.arrayBuffer()));
      return new Response(null, { status: 200, headers: { etag: '"x"' } });
    }
    if (req.method === 'POST' && url.searchParams.has('delete')) {
      const keys = [...(await req.text()).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!);
      for (const k of keys) objects.delete(k);
      return new Response(`<DeleteResult>${keys.map((k) => `<Deleted><Key>${k}</Key></Deleted>`).join('')}</DeleteResult>`, { headers: { 'content-type': 'application/xml' } });
    }
    if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      return new Response(`<ListBucketResult><IsTruncated>false</IsTruncated>${keys.map((k) => `<Contents><Key>${k}</Key><Size>1</Size></Contents>`).join('')}</ListBucketResult>`, {
        headers: { 'content-type': 'application/xml' },
      });
    }
    if (req.method === 'DELETE') {
      objects.delete(key);
      return new Response(null, { status: 204 });
    }
    const body = objects.get(key);
    if (!body) return new Response(req.method === 'HEAD' ? null : '<Error><Code>NoSuchKey</Code></Error>', { status: 404 });
    const headers = { 'content-length': String(body.length), etag: '"x"', 'last-modified': new Date(0).toUTCString(), 'content-type': 'application/octet-stream' };
    return new Response(req.method === 'HEAD' ? null : body.slice().buffer, { headers });
  };
  const sent: { backend: string; method: string; execution: string | null }[] = [];
  const fetch = async (req: Request, init: RequestInit & { backend?: unknown }) => {
    const backend = String(init.backend);
    sent.push({ backend, method: req.method, execution: req.headers.get('x-avatar-edge-execution') });
    if (!(backend in buckets)) return new Response(IMAGE, { headers: { 'content-type': 'image/webp' } });
    return answer(backend, req);
  };
  const seed = (tenant: string, id: string) => {
    for (const objects of Object.values(buckets)) {
      objects.set(`originals/${tenant}/${shardOf(tenant, id)}/${id}`, new Uint8Array([1]));
      objects.set(`variants/${tenant}/${shardOf(tenant, id)}/${id}/64x64-cover-q75.webp`, new Uint8Array([2]));
      objects.set(`variants/${tenant}/${shardOf(tenant, id)}/${id}/128x128-cover-q75.webp`, new Uint8Array([3]));
    }
  };
  /** What the bucket holds of the image (original, variants, tombstone). */
  const holds = (backend: string, tenant: string, id: string) =>
    [...buckets[backend]!.keys()]
      .filter((k) => k.includes(`/${tenant}/${shardOf(tenant, id)}/${id}`))
      .map((k) => k.split('/')[0])
      .sort();
  return { buckets, sent, fetch, seed, holds };
}

describe('takedowns within the backend request limit, with a failover secondary', () => {
  const SECONDARY = { S3_SECONDARY_ENDPOINT: 'http://127.0.0.1:4569', S3_SECONDARY_BUCKET: 'archive' };
  const SECONDARY_SECRETS = { S3_SECONDARY_ACCESS_KEY_ID: 'S3RVER', S3_SECONDARY_SECRET_ACCESS_KEY: 'S3RVER' };
  const takedown = (handle: ReturnType<typeof service>) =>
    handle(
      new Request('http://edge.test/_admin/takedown', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenant: 'demo', id: 'u-7', reason: 'r', ticket: 't' }),
      }),
    );

  it('one store: 8 backend requests in one execution (7 for the image, 1 for the audit entry), ok', async () => {
    configure(STORAGE, STORAGE_SECRETS);
    const b = fakeBuckets();
    b.seed('demo', 'u-7');
    const res = await takedown(service(b.fetch));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, verification: { ok: true, via: 'edge-cache', stores: [{ store: 'primary', tombstone: true, remaining: [] }] } });
    expect(b.sent.map((s) => `${s.backend} ${s.method}`)).toHaveLength(8);
    expect(b.sent.filter((s) => s.method === 'POST')).toHaveLength(1);
    expect(new Set(b.sent.map((s) => s.execution)).size).toBe(1);
    expect(b.holds('store', 'demo', 'u-7')).toEqual(['tombstones']);
  });

  const admin = (handle: ReturnType<typeof service>, op: string, body: Record<string, unknown>) =>
    handle(new Request(`http://edge.test/_admin/${op}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  const audits = (b: ReturnType<typeof fakeBuckets>) =>
    [...b.buckets.store!.entries()]
      .filter(([k]) => k.startsWith('audit/'))
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([, v]) => JSON.parse(new TextDecoder().decode(v)) as Record<string, unknown>);
  /** Backend requests per execution, in order. */
  const perExecution = (b: ReturnType<typeof fakeBuckets>) => {
    const counts = new Map<string | null, number>();
    for (const s of b.sent) counts.set(s.execution, (counts.get(s.execution) ?? 0) + 1);
    return [...counts.values()];
  };

  it('two stores at the default limit of 10: completes in two calls (202 with next, then 200), each within 10, one audit entry ok', async () => {
    configure({ ...STORAGE, ...SECONDARY }, { ...STORAGE_SECRETS, ...SECONDARY_SECRETS });
    const b = fakeBuckets();
    b.seed('demo', 'u-7');
    const handle = service(b.fetch);
    const legal = { tenant: 'demo', reason: 'r', ticket: 't' };
    const first = await admin(handle, 'takedown', { ...legal, id: 'u-7' });
    const part = (await first.json()) as { ok: boolean; more: boolean; done: string[]; next: Record<string, unknown>; audit: { id: string } };
    expect(first.status).toBe(202);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(part).toMatchObject({ ok: false, more: true, audit: { id: expect.any(String) } });
    expect(part.done).toEqual(['tombstone on primary', 'tombstone on secondary', 'delete on primary', 'delete on secondary', 'purge']);
    expect(part.next).toEqual({ id: 'u-7', continue: { stage: 'verify', variants: ['128x128-cover-q75.webp', '64x64-cover-q75.webp'], started: part.audit.id } });
    // The first call already leaves only the tombstone on both buckets.
    expect(b.holds('store', 'demo', 'u-7')).toEqual(['tombstones']);
    expect(b.holds('store_secondary', 'demo', 'u-7')).toEqual(['tombstones']);

    const last = await admin(handle, 'takedown', { ...legal, ...part.next });
    expect(last.status).toBe(200);
    expect(await last.json()).toMatchObject({
      ok: true,
      continues: part.audit.id,
      verification: {
        ok: true,
        via: 'edge-cache',
        stores: [
          { store: 'primary', tombstone: true, remaining: [] },
          { store: 'secondary', tombstone: true, remaining: [] },
        ],
      },
    });
    // 9 (4 per bucket + audit), then 7 (the sweep's 3 per bucket + audit): never more than 10 in one execution.
    expect(perExecution(b)).toEqual([9, 7]);
    const [inProgress, done] = audits(b);
    expect(inProgress).toMatchObject({ action: 'takedown', ok: false, inProgress: { done: part.done, next: 'verify' } });
    expect(done).toMatchObject({ action: 'takedown', ok: true, continues: part.audit.id });
    expect(audits(b)).toHaveLength(2);
  });

  it('two stores at 10: an object written between the calls is deleted by the verify call, which answers one more part (202); the next one says ok', async () => {
    configure({ ...STORAGE, ...SECONDARY }, { ...STORAGE_SECRETS, ...SECONDARY_SECRETS });
    const b = fakeBuckets();
    b.seed('demo', 'u-7');
    const handle = service(b.fetch);
    const legal = { tenant: 'demo', reason: 'r', ticket: 't' };
    const part = (await (await admin(handle, 'takedown', { ...legal, id: 'u-7' })).json()) as { next: Record<string, unknown>; audit: { id: string } };
    // A late write (another process) puts a variant back on the secondary.
    const late = `variants/demo/${shardOf('demo', 'u-7')}/u-7/256x256-cover-q75.webp`;
    b.buckets.store_secondary!.set(late, new Uint8Array([4]));
    const res = await admin(handle, 'takedown', { ...legal, ...part.next });
    const body = (await res.json()) as { ok: boolean; more: boolean; done: string[]; next: { continue: { variants: string[]; started: string } } };
    expect(res.status).toBe(202);
    expect(body).toMatchObject({ ok: false, more: true });
    expect(body.done[0]).toMatch(/^sweep: deleted 1 object/);
    // The late variant's URLs are verified too, and the final entry still refers to the first call.
    expect(body.next.continue.variants).toContain('256x256-cover-q75.webp');
    expect(body.next.continue.started).toBe(part.audit.id);
    expect(b.holds('store_secondary', 'demo', 'u-7')).toEqual(['tombstones']);
    const last = await admin(handle, 'takedown', { ...legal, ...body.next });
    expect(last.status).toBe(200);
    expect(await last.json()).toMatchObject({ ok: true, continues: part.audit.id, verification: { ok: true } });
    expect(perExecution(b)).toEqual([9, 8, 7]);
    expect(audits(b).map((a) => a.ok)).toEqual([false, false, true]);
  });

  it('two stores at 8: too few for even one part, 500 INCOMPLETE naming the limit to set, within 8', async () => {
    configure({ ...STORAGE, ...SECONDARY, BACKEND_REQUEST_LIMIT: '8' }, { ...STORAGE_SECRETS, ...SECONDARY_SECRETS });
    const b = fakeBuckets();
    b.seed('demo', 'u-7');
    const res = await admin(service(b.fetch), 'takedown', { tenant: 'demo', id: 'u-7', reason: 'r', ticket: 't' });
    const body = (await res.json()) as { code: string; message: string };
    expect(res.status).toBe(500);
    expect(body.code).toBe('INCOMPLETE');
    expect(body.message).toMatch(/BACKEND_REQUEST_LIMIT to 9 or more/);
    expect(perExecution(b)).toEqual([8]);
    expect(audits(b).at(-1)).toMatchObject({ ok: false });
  });

  it('two stores at 10: an erasure by ids and by prefix goes one image and one stage per call, each within 10', async () => {
    configure({ ...STORAGE, ...SECONDARY }, { ...STORAGE_SECRETS, ...SECONDARY_SECRETS });
    const b = fakeBuckets();
    for (const id of ['u-1', 'u-2', 'p-1']) b.seed('demo', id);
    const handle = service(b.fetch);
    const legal = { tenant: 'demo', reason: 'r', ticket: 't' };
    const r1 = (await (await admin(handle, 'erase', { ...legal, ids: ['u-1', 'u-2'] })).json()) as { more: boolean; erased: number; remaining: string[]; next: Record<string, unknown> };
    expect(r1).toMatchObject({ ok: false, more: true, erased: 0, remaining: ['u-2'], next: { ids: ['u-1'], continue: { stage: 'verify' } } });
    const r2 = (await (await admin(handle, 'erase', { ...legal, ...r1.next })).json()) as Record<string, unknown>;
    expect(r2).toMatchObject({ ok: true, more: false, erased: 1 });
    expect(b.holds('store_secondary', 'demo', 'u-1')).toEqual(['tombstones']);
    expect(b.holds('store', 'demo', 'u-2')).toEqual(['originals', 'variants', 'variants']);

    // By prefix: the listing is one call's part; it hands the first id on.
    const p1 = await admin(handle, 'erase', { ...legal, prefix: 'p-' });
    const p1Body = (await p1.json()) as { next: Record<string, unknown> };
    expect(p1.status).toBe(202);
    expect(p1Body).toMatchObject({ ok: false, more: true, next: { ids: ['p-1'] } });
    const p2 = (await (await admin(handle, 'erase', { ...legal, ...p1Body.next })).json()) as { next: Record<string, unknown> };
    const p3 = await admin(handle, 'erase', { ...legal, ...p2.next });
    expect(p3.status).toBe(200);
    expect(b.holds('store', 'demo', 'p-1')).toEqual(['tombstones']);
    expect(b.holds('store_secondary', 'demo', 'p-1')).toEqual(['tombstones']);
    const p4 = await admin(handle, 'erase', { ...legal, prefix: 'p-' });
    expect(p4.status).toBe(200);
    expect(await p4.json()).toMatchObject({ ok: true, more: false, erased: 0 });
    expect(Math.max(...perExecution(b))).toBeLessThanOrEqual(10);
    // No audit entry of a part says ok.
    expect(
      audits(b)
        .filter((a) => a.inProgress)
        .every((a) => a.ok === false),
    ).toBe(true);
  });

  it('two stores with BACKEND_REQUEST_LIMIT=15: 15 backend requests in one execution, both stores verified, ok', async () => {
    configure({ ...STORAGE, ...SECONDARY, BACKEND_REQUEST_LIMIT: '15' }, { ...STORAGE_SECRETS, ...SECONDARY_SECRETS });
    const b = fakeBuckets();
    b.seed('demo', 'u-7');
    const res = await takedown(service(b.fetch));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      ok: true,
      verification: {
        ok: true,
        via: 'edge-cache',
        stores: [
          { store: 'primary', tombstone: true, remaining: [] },
          { store: 'secondary', tombstone: true, remaining: [] },
        ],
      },
    });
    expect(b.sent).toHaveLength(15);
    expect(b.sent.filter((s) => s.backend === 'store_secondary')).toHaveLength(7);
    expect(new Set(b.sent.map((s) => s.execution)).size).toBe(1);
    expect(b.holds('store', 'demo', 'u-7')).toEqual(['tombstones']);
    expect(b.holds('store_secondary', 'demo', 'u-7')).toEqual(['tombstones']);
  });
});

describe('animated originals with fmt=auto', () => {
  // A GIF's first bytes: header, 1×1 screen, no colour table, two 1×1 images (the edge walks them).
  const image = [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0];
  const GIF_2_FRAMES = new Uint8Array([...new TextEncoder().encode('GIF89a'), 1, 0, 1, 0, 0, 0, 0, ...image, ...image, 0x3b]);
  const GIF_1_FRAME = new Uint8Array([...new TextEncoder().encode('GIF89a'), 1, 0, 1, 0, 0, 0, 0, ...image, 0x3b]);
  const range =
    (body: typeof GIF_1_FRAME, headers: Record<string, string> = {}) =>
    () =>
      new Response(body, { status: 206, headers: { 'content-type': 'image/gif', 'content-range': `bytes 0-${body.length - 1}/5000`, ...headers } });

  it('picks the WebP variant for an animated original where AVIF would win, AVIF for a still one; both vary on Accept', async () => {
    configure(STORAGE, STORAGE_SECRETS);
    const animated = fakeBackends({ store: range(GIF_2_FRAMES) });
    const r = await service(animated.fetch)(get('/modern/anim?w=256', { accept: 'image/avif,image/webp' }));
    expect(r.headers.get('x-variant')).toBe('modern/anim/256x0-inside-q75.webp');
    expect(r.headers.get('vary')).toMatch(/accept/i);
    expect(animated.sent.filter((s) => s.backend === 'renderer').map((s) => s.url)).toEqual(['http://renderer/_render/modern/anim/256x0-inside-q75.webp']);
    expect(JSON.parse(coreCacheDouble.entries.get(`${FACTS_KEY_PREFIX}modern/anim`)!.userMetadata)).toEqual({ alpha: false, animated: true });

    const still = fakeBackends({ store: range(GIF_1_FRAME) });
    const s = await service(still.fetch)(get('/modern/still?w=256', { accept: 'image/avif,image/webp' }));
    expect(s.headers.get('x-variant')).toBe('modern/still/256x0-inside-q75.avif');
    expect(s.headers.get('vary')).toMatch(/accept/i);
  });

  it('takes the animated flag an upload recorded over the header, and asks nothing when WebP is not acceptable', async () => {
    configure(STORAGE, STORAGE_SECRETS);
    const { sent, fetch } = fakeBackends({ store: range(GIF_1_FRAME, { 'x-amz-meta-animated': '1', 'x-amz-meta-alpha': '0' }) });
    const handle = service(fetch);
    expect((await handle(get('/modern/anim?w=256', { accept: 'image/avif,image/webp' }))).headers.get('x-variant')).toBe('modern/anim/256x0-inside-q75.webp');
    // Without WebP in Accept the tenant's order stands: AVIF (its first frame).
    expect((await handle(get('/modern/anim?w=256', { accept: 'image/avif' }))).headers.get('x-variant')).toBe('modern/anim/256x0-inside-q75.avif');
    expect(sent.filter((s) => s.backend === 'store')).toHaveLength(1);
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
    // Its own entry, not an image: no body, the flag as metadata, purged with the image.
    const flag = coreCacheDouble.entries.get(`${FACTS_KEY_PREFIX}legacy/u-7`)!;
    expect(flag.surrogateKeys).toEqual(['t:legacy', 'i:legacy/u-7']);
    expect(flag.body.byteLength).toBe(0);
    expect(JSON.parse(flag.userMetadata)).toEqual({ alpha: true, animated: false });
    expect([...coreCacheDouble.entries.keys()].filter((k) => k.startsWith(CACHE_KEY_PREFIX)).every((k) => /\.(png|jpeg)$/.test(k))).toBe(true);
  });

  it('takes the alpha flag an upload recorded in the metadata over the header', async () => {
    configure(STORAGE, STORAGE_SECRETS);
    const { fetch } = fakeBackends({
      store: () => new Response(PNG_RGBA, { status: 206, headers: { 'content-range': 'bytes 0-32/5000', 'x-amz-meta-alpha': '0' } }),
    });
    const r = await service(fetch)(get('/legacy/u-7?w=64', { accept: '*/*' }));
    expect(r.headers.get('x-variant')).toBe('legacy/u-7/64x0-inside-q75.jpeg');
  });

  it('asks the edge cache before the bucket: a remembered flag answers while the bucket is misconfigured or down', async () => {
    configure(STORAGE, STORAGE_SECRETS);
    const first = fakeBackends({ store: () => new Response(PNG_RGBA, { status: 206, headers: { 'content-range': 'bytes 0-32/5000' } }) });
    await service(first.fetch)(get('/legacy/u-7?w=64', { accept: '*/*' }));
    // No bucket credentials now: the bucket cannot even be set up, and the flag is not asked of it.
    configure(STORAGE, {});
    const second = fakeBackends({ store: () => new Response('down', { status: 503 }) });
    const r = await service(second.fetch)(get('/legacy/u-7?w=128', { accept: '*/*' }));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-variant')).toBe('legacy/u-7/128x0-inside-q100.png');
    expect(second.sent.filter((s) => s.backend === 'store')).toEqual([]);
    // Past its TTL the flag is probed again; when the bucket fails then, the old answer stands.
    configure(STORAGE, STORAGE_SECRETS);
    coreCacheDouble.now += 31_536_000_000 + 1;
    const third = fakeBackends({ store: () => new Response('down', { status: 503 }) });
    const r3 = await service(third.fetch)(get('/legacy/u-7?w=256', { accept: '*/*' }));
    expect(r3.headers.get('x-variant')).toBe('legacy/u-7/256x0-inside-q100.png');
    expect(third.sent.filter((s) => s.backend === 'store').map((s) => s.range)).toContain('bytes=0-65535');
  });

  it('forgets the flag when the image is purged', async () => {
    configure(STORAGE, STORAGE_SECRETS);
    const { sent, fetch } = fakeBackends({ store: () => new Response(PNG_RGBA, { status: 206, headers: { 'content-range': 'bytes 0-32/5000' } }) });
    await service(fetch)(get('/legacy/u-7?w=64', { accept: '*/*' }));
    coreCacheDouble.purge('i:legacy/u-7', false);
    await service(fetch)(get('/legacy/u-7?w=64', { accept: '*/*' }));
    expect(sent.filter((s) => s.backend === 'store')).toHaveLength(2);
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
