import { describe, expect, it } from 'vitest';
import { createAdminService } from '../../src/core/admin/admin-service.js';
import { createCachePurger, type Purger } from '../../src/core/purge/purger.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { createAdminRoutes } from '../../src/http/admin-routes.js';
import { adminFixture, OTHER_TOKEN, TOKEN } from '../core/admin/fixture.js';
import { StorageError } from '../../src/storage/storage-error.js';
import { createMemoryStore } from '../support/memory-store.js';

const noWait = { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, sleep: async () => {} };

describe('admin routes: authentication', () => {
  const cases: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['a wrong token', { authorization: `Bearer ${TOKEN}x` }],
    ['a token prefix', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['the token id instead of the token', { authorization: 'Bearer admin-1' }],
  ];
  for (const [name, headers] of cases) {
    it(`answers 401 without detail and changes nothing for ${name}`, async () => {
      const f = adminFixture();
      await f.seed('demo', 'u-1');
      await f.get('/demo/u-1/64.webp');
      const before = f.keys();
      for (const [path, body] of [
        ['takedown', { tenant: 'demo', id: 'u-1', reason: 'r', ticket: 't' }],
        ['purge', { keys: ['i:demo/u-1'] }],
        ['erase', { tenant: 'demo', prefix: '', confirm: 'demo', reason: 'r', ticket: 't' }],
        ['restore', { tenant: 'demo', id: 'u-1', reason: 'r' }],
        ['nonexistent', {}],
      ] as const) {
        const res = await f.app.fetch(new Request(`http://localhost/_admin/${path}`, { method: 'POST', headers, body: JSON.stringify(body) }));
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ code: 'UNAUTHORIZED', message: 'unauthorized' });
        expect(res.headers.get('cache-control')).toBe('no-store');
      }
      const audit = await f.app.fetch(new Request('http://localhost/_admin/audit', { headers }));
      expect(audit.status).toBe(401);
      expect(f.keys()).toEqual(before);
      expect((await f.get('/demo/u-1/64.webp')).headers.get('x-cache')).toBe('HIT');
    });
  }

  it('accepts every configured token and records its id as who', async () => {
    const f = adminFixture();
    const res = await f.admin('POST', 'purge', { keys: ['t:demo'] }, OTHER_TOKEN);
    expect(res.status).toBe(200);
    const entry = (await (await f.admin('GET', 'audit')).json()).entries[0];
    expect(entry.who).toBe('admin-2');
  });

  it('answers 401 to everything when no token is configured', async () => {
    const routes = createAdminRoutes({ service: createAdminService({ store: createMemoryStore().store, purger: { purge: async () => [] }, config: loadServiceConfig({}) }), tokens: {} });
    for (const auth of ['', 'Bearer ', `Bearer ${TOKEN}`, 'Bearer no admin token configured']) {
      await expect(routes(new Request('http://localhost/_admin/audit', { headers: auth ? { authorization: auth } : {} }))).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
  });
});

describe('admin routes: requests', () => {
  it.each([
    ['purge', '{not json', 400, 'INVALID_JSON'],
    ['purge', '[1,2]', 400, 'INVALID_BODY'],
    ['purge', { keys: [] }, 400, 'INVALID_FIELD'],
    ['purge', { keys: ['demo/u-1'] }, 400, 'INVALID_FIELD'],
    ['purge', { keys: ['i:demo/u-1 t:x'] }, 400, 'INVALID_FIELD'],
    ['purge', { keys: ['t:demo'], soft: 'yes' }, 400, 'INVALID_FIELD'],
    ['purge', { keys: Array.from({ length: 10_001 }, (_, i) => `i:demo/${i}`), reason: '10 001 keys' }, 400, 'INVALID_FIELD'],
    ['takedown', { tenant: 'demo', id: 'u-1', reason: 'x' }, 400, 'INVALID_FIELD'],
    ['takedown', { tenant: 'demo', id: 'u-1', reason: 'x', ticket: 'T', ticekt: 'typo' }, 400, 'INVALID_FIELD'],
    ['takedown', { tenant: 'demo', id: '../etc', reason: 'x', ticket: 'T' }, 400, 'INVALID_FIELD'],
    ['takedown', { tenant: 'Demo', id: 'u-1', reason: 'x', ticket: 'T' }, 400, 'INVALID_FIELD'],
    ['takedown', { tenant: 'demo', id: 'u-1', reason: '  ', ticket: 'T' }, 400, 'INVALID_FIELD'],
    ['takedown', { tenant: 'demo', id: 'u-1', reason: 'line\u001b[2J', ticket: 'T' }, 400, 'INVALID_FIELD'],
    ['erase', { tenant: 'demo', reason: 'x', ticket: 'T' }, 400, 'INVALID_FIELD'],
    ['erase', { tenant: 'demo', ids: ['a'], prefix: 'a', reason: 'x', ticket: 'T' }, 400, 'INVALID_FIELD'],
    ['erase', { tenant: 'demo', prefix: '../', reason: 'x', ticket: 'T' }, 400, 'INVALID_FIELD'],
    ['erase', { tenant: 'demo', prefix: '', confirm: 'acme', reason: 'x', ticket: 'T' }, 400, 'CONFIRM_REQUIRED'],
    ['restore', { tenant: 'demo', id: 'u-1' }, 400, 'INVALID_FIELD'],
  ])('POST %s %# → %i %s', async (path, body, status, code) => {
    const f = adminFixture();
    await f.seed('demo', 'u-1');
    const before = f.keys();
    const res = await f.admin('POST', path, body);
    expect(res.status).toBe(status);
    expect((await res.json()).code).toBe(code);
    expect(f.keys()).toEqual(before);
  });

  it('answers 405 for the wrong method, 404 for unknown admin paths, 413 for huge bodies', async () => {
    const f = adminFixture();
    expect((await f.admin('GET', 'purge')).status).toBe(405);
    expect((await f.admin('POST', 'audit', {})).status).toBe(405);
    expect((await f.admin('GET', 'nope')).status).toBe(404);
    expect((await f.admin('GET', '')).status).toBe(404);
    expect((await f.admin('GET', 'audit/not-an-id')).status).toBe(404);
    const huge = await f.admin('POST', 'purge', JSON.stringify({ keys: ['t:demo'], reason: 'x'.repeat(1_100_000) }));
    expect(huge.status).toBe(413);
  });

  it('purges one variant key and leaves the other variants cached', async () => {
    const f = adminFixture();
    await f.seed('demo', 'u-1');
    for (const p of ['/demo/u-1/64.webp', '/demo/u-1/128.webp', '/demo/u-1/64.png']) await f.get(p);
    const key = (await f.get('/demo/u-1/64.webp')).headers
      .get('surrogate-key')!
      .split(' ')
      .find((k) => k.startsWith('v:'))!;
    expect(key).toBe('v:demo/u-1/64x64-cover-q75.webp');
    const res = await f.admin('POST', 'purge', { keys: [key], reason: 'bad render' });
    expect(await res.json()).toMatchObject({ ok: true, soft: false, purged: 1, failed: 0, results: [{ key, ok: true, purged: 1 }] });
    expect((await f.get('/demo/u-1/64.webp')).headers.get('x-cache')).toBe('MISS');
    expect((await f.get('/demo/u-1/128.webp')).headers.get('x-cache')).toBe('HIT');
    expect((await f.get('/demo/u-1/64.png')).headers.get('x-cache')).toBe('HIT');
  });

  it('soft purge serves stale once, then the refreshed copy', async () => {
    const f = adminFixture();
    await f.seed('demo', 'u-1');
    await f.get('/demo/u-1/64.webp');
    const renders = f.fake.state.renders;
    expect((await f.admin('POST', 'purge', { keys: ['i:demo/u-1'], soft: true })).status).toBe(200);
    expect((await f.get('/demo/u-1/64.webp')).headers.get('x-cache')).toBe('STALE');
    await new Promise((r) => setTimeout(r, 10));
    expect((await f.get('/demo/u-1/64.webp')).headers.get('x-cache')).toBe('HIT');
    // The refresh read the stored variant: no new render.
    expect(f.fake.state.renders).toBe(renders);
  });

  it('reports 500 INCOMPLETE with per-key results when a purge keeps failing, and audits it', async () => {
    const f = adminFixture();
    const real = createCachePurger(f.cache);
    const flaky: Purger = { purge: async (keys, soft) => (await real.purge(keys, soft)).map((r) => (r.key === 't:bad' ? { key: r.key, ok: false, error: 'backend 503' } : r)) };
    const routes = createAdminRoutes({ service: createAdminService({ store: f.store, purger: flaky, config: f.config, ...noWait }), tokens: { a: TOKEN } });
    const res = await routes(new Request('http://localhost/_admin/purge', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ keys: ['t:demo', 't:bad'] }) }));
    expect(res!.status).toBe(500);
    const body = await res!.json();
    expect(body).toMatchObject({
      code: 'INCOMPLETE',
      ok: false,
      purged: 1,
      failed: 1,
      results: [
        { key: 't:demo', ok: true },
        { key: 't:bad', ok: false, error: 'backend 503', attempts: 2 },
      ],
    });
    expect(body.audit.id).toBeTruthy();
    expect(f.keys('audit/')).toHaveLength(1);
  });

  it('reports 500 AUDIT_WRITE_FAILED when the audit entry cannot be written', async () => {
    const f = adminFixture();
    const put = f.store.put.bind(f.store);
    f.store.put = async (k, b, o) => (k.startsWith('audit/') ? Promise.reject(new Error('bucket down')) : put(k, b, o));
    const res = await f.admin('POST', 'purge', { keys: ['t:demo'] });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ code: 'AUDIT_WRITE_FAILED', ok: false, audit: { error: 'bucket down' } });
  }, 10_000);

  it('reports an audit store that cannot be read as 503 AUDIT_UNAVAILABLE, not as the image origin', async () => {
    const f = adminFixture();
    await f.admin('POST', 'purge', { keys: ['i:demo/n0'] });
    const id = f
      .keys('audit/')[0]!
      .split('/')
      .pop()!
      .replace(/\.json$/, '');
    f.store.list = async (prefix) => Promise.reject(new StorageError({ status: 503, code: 'SlowDown', message: `S3 list "${prefix}" in bucket audit-bucket failed: 503 SlowDown`, operation: 'list' }));
    f.store.get = async (key) => Promise.reject(new StorageError({ status: 403, code: 'AccessDenied', message: `S3 get "${key}" in bucket audit-bucket failed: 403 AccessDenied`, operation: 'get' }));
    for (const path of ['audit', `audit/${id}`]) {
      const res = await f.admin('GET', path);
      expect(res.status).toBe(503);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await res.json();
      expect(body.code).toBe('AUDIT_UNAVAILABLE');
      expect(body.message).toMatch(/^the audit log could not be read from the store: S3 (list|get) .* (503 SlowDown|403 AccessDenied)$/);
      expect(body.message).not.toMatch(/image origin/);
    }
  });

  it('pages the audit log through the API', async () => {
    const f = adminFixture();
    for (let i = 0; i < 5; i++) await f.admin('POST', 'purge', { keys: [`i:demo/n${i}`] });
    const first = await (await f.admin('GET', 'audit?limit=2')).json();
    expect(first.entries.map((e: { keys: string[] }) => e.keys[0])).toEqual(['i:demo/n4', 'i:demo/n3']);
    const second = await (await f.admin('GET', `audit?limit=2&cursor=${first.cursor}`)).json();
    expect(second.entries.map((e: { keys: string[] }) => e.keys[0])).toEqual(['i:demo/n2', 'i:demo/n1']);
    expect((await f.admin('GET', 'audit?limit=0')).status).toBe(400);
    expect((await (await f.admin('GET', 'audit?cursor=../../x')).json()).code).toBe('INVALID_FIELD');
  });
});
