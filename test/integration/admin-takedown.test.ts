import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originalKey, tenantPrefix, tombstoneKey, variantPrefix } from '../../src/core/storage-keys.js';
import { REPO_ROOT } from '../../src/hosts/node/create-node-app.js';
import { seedSamples } from '../../src/hosts/node/seed-samples.js';
import { countingRenderer, startTestHost } from '../support/node-host.js';

const TOKEN = 'integration-admin-token-0123456789abcdef';
const WEBP = 'image/avif,image/webp,*/*;q=0.8';
const LEGACY = 'image/jpeg,image/png,*/*;q=0.8';

/** Several sizes, formats and both URL forms (path template and query), as clients ask for them. */
const HOPPER: [string, string][] = [
  ['/demo/hopper/64.webp', WEBP],
  ['/demo/hopper/64.jpeg', WEBP],
  ['/demo/hopper/32.png', WEBP],
  ['/demo/hopper/96.jpg', LEGACY],
  ['/demo/hopper?w=64&h=64&fmt=webp', WEBP],
  ['/demo/hopper?w=128', WEBP],
  ['/demo/hopper?w=128', LEGACY],
  ['/demo/hopper?w=48&h=32&fit=contain&fmt=jpeg&utm_source=mail', WEBP],
  ['/demo/hopper?w=16&dpr=2&fmt=png', WEBP],
];

describe('admin API over HTTP (node host)', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  const { counter, wrap } = countingRenderer();
  const admin = (path: string, body?: unknown, token: string | null = TOKEN, method = body === undefined ? 'GET' : 'POST') =>
    fetch(`${host.url}/_admin/${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const allKeys = async (prefix = '') => (await host.store.list(prefix, { limit: 100_000 })).keys;
  const status = async (path: string, accept = WEBP) => {
    const r = await host.get(path, { accept });
    await r.arrayBuffer();
    return { status: r.status, cache: r.headers.get('x-cache'), cc: r.headers.get('cache-control') };
  };

  beforeAll(async () => {
    // demo without a generated fallback, so a missing original is a plain 404.
    host = await startTestHost({ tenants: { demo: {} }, admin: { tokens: { 'legal-bot': TOKEN } } }, { wrapRenderer: wrap });
  });
  afterAll(() => host?.stop());

  it('answers 401 with no detail to missing or wrong tokens, and changes nothing', async () => {
    expect((await status('/demo/mysha/64.webp')).status).toBe(200);
    const before = await allKeys();
    for (const token of [null, 'wrong', `${TOKEN}x`, TOKEN.slice(1)]) {
      for (const [path, body] of [
        ['takedown', { tenant: 'demo', id: 'mysha', reason: 'x', ticket: 'T-1' }],
        ['erase', { tenant: 'demo', prefix: '', confirm: 'demo', reason: 'x', ticket: 'T-1' }],
        ['purge', { keys: ['t:demo'] }],
        ['restore', { tenant: 'demo', id: 'mysha', reason: 'x' }],
      ] as const) {
        const r = await admin(path, body, token);
        expect(r.status).toBe(401);
        expect(await r.json()).toEqual({ code: 'UNAUTHORIZED', message: 'unauthorized' });
      }
      expect((await admin('audit', undefined, token)).status).toBe(401);
    }
    expect(await allKeys()).toEqual(before);
    expect(await status('/demo/mysha/64.webp')).toMatchObject({ status: 200, cache: 'HIT' });
  });

  it('purging one variant key leaves the other variants cached', async () => {
    for (const p of ['/demo/astronaut/64.webp', '/demo/astronaut/96.webp', '/demo/astronaut/64.png']) expect((await status(p)).status).toBe(200);
    const r = await admin('purge', { keys: ['v:demo/astronaut/64x64-cover-q75.webp'], reason: 'bad crop' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: true, results: [{ key: 'v:demo/astronaut/64x64-cover-q75.webp', ok: true, purged: 1 }] });
    expect((await status('/demo/astronaut/64.webp')).cache).toBe('MISS');
    expect((await status('/demo/astronaut/96.webp')).cache).toBe('HIT');
    expect((await status('/demo/astronaut/64.png')).cache).toBe('HIT');
  });

  it('a soft purge serves the stale copy once, then the refreshed one', async () => {
    expect((await status('/demo/astronaut/96.webp')).cache).toBe('HIT');
    expect((await admin('purge', { keys: ['i:demo/astronaut'], soft: true })).status).toBe(200);
    expect(await status('/demo/astronaut/96.webp')).toMatchObject({ status: 200, cache: 'STALE' });
    // The background refresh reads the stored variant (and re-checks the tombstone): until it has
    // landed the copy stays STALE; then it is a HIT. Polled, so a loaded machine only waits longer.
    let after = await status('/demo/astronaut/96.webp');
    for (let i = 0; i < 100 && after.cache === 'STALE'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await status('/demo/astronaut/96.webp');
    }
    expect(after).toMatchObject({ status: 200, cache: 'HIT' });
  });

  it('after a takedown every warm variant answers 410 at once, nothing is stored, and the audit has the proof', async () => {
    for (const [p, accept] of HOPPER) expect((await status(p, accept)).status).toBe(200);
    for (const [p, accept] of HOPPER) expect((await status(p, accept)).cache).toBe('HIT');
    const storedBefore = await allKeys(variantPrefix('demo', 'hopper'));
    expect(storedBefore.length).toBeGreaterThanOrEqual(7);

    const res = await admin('takedown', { tenant: 'demo', id: 'hopper', reason: 'DMCA notice from the rights holder', ticket: 'LEGAL-311' });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ ok: true, tombstone: tombstoneKey('demo', 'hopper'), verification: { ok: true, failures: [], remaining: [] } });
    expect(body.deleted).toHaveLength(storedBefore.length + 1);

    for (const [p, accept] of HOPPER) {
      const s = await status(p, accept);
      expect(s.status, p).toBe(410);
      expect(s.cc).toBe('public, max-age=60');
    }
    // Nothing left of it anywhere in the data directory but the tombstone.
    expect(await allKeys(variantPrefix('demo', 'hopper'))).toEqual([]);
    expect((await allKeys(tenantPrefix('originals', 'demo'))).filter((k) => k.endsWith('/hopper'))).toEqual([]);
    expect((await allKeys(tenantPrefix('variants', 'demo'))).filter((k) => k.includes('/hopper/'))).toEqual([]);
    expect(await allKeys(tenantPrefix('tombstones', 'demo'))).toEqual([tombstoneKey('demo', 'hopper')]);
    const shardDir = join(host.dataDir, variantPrefix('demo', 'hopper'));
    expect(await readdir(shardDir).catch(() => [])).toEqual([]);

    const audit = await (await admin('audit')).json();
    const entry = audit.entries.find((e: { action: string }) => e.action === 'takedown');
    expect(entry).toMatchObject({ id: body.audit.id, who: 'legal-bot', ok: true, ticket: 'LEGAL-311', keys: ['i:demo/hopper'] });
    expect(entry.verification.ok).toBe(true);
    expect(entry.verification.checked).toBeGreaterThanOrEqual(80);
    expect(entry.verification.gone).toBe(entry.verification.checked);
    expect(entry.deleted).toContain(originalKey('demo', 'hopper'));
    const day = entry.when.slice(0, 10).split('-');
    expect(await readdir(join(host.dataDir, 'audit', ...day))).toContain(`${entry.id}.json`);
    expect(JSON.stringify(audit)).not.toContain(TOKEN);
  });

  it('a taken-down image cannot be re-rendered, even when its original reappears', async () => {
    const renders = counter.renders;
    await seedSamples(host.store, `${REPO_ROOT}samples`, ['demo']); // re-seeds hopper behind the admin's back
    expect(await host.store.head(originalKey('demo', 'hopper'))).not.toBeNull();
    expect((await admin('purge', { keys: ['i:demo/hopper'] })).status).toBe(200);
    for (const p of ['/demo/hopper/64.webp', '/demo/hopper/256.webp', '/demo/hopper?w=200&fmt=png']) expect((await status(p)).status).toBe(410);
    expect(counter.renders).toBe(renders);
    await host.store.delete(originalKey('demo', 'hopper'));
  });

  it('restore + a fresh upload brings the image back', async () => {
    const r = await admin('restore', { tenant: 'demo', id: 'hopper', reason: 'counter-notice accepted', ticket: 'LEGAL-311' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: true, previous: { ticket: 'LEGAL-311', who: 'legal-bot' } });
    expect(await host.store.head(tombstoneKey('demo', 'hopper'))).toBeNull();
    expect((await status('/demo/hopper/64.webp')).status).toBe(404); // gone until uploaded again

    expect(await seedSamples(host.store, `${REPO_ROOT}samples`, ['demo'])).toContain('demo/hopper');
    expect((await admin('purge', { keys: ['i:demo/hopper'] })).status).toBe(200); // as the upload path does
    expect(await status('/demo/hopper/64.webp')).toMatchObject({ status: 200, cache: 'MISS' });
    const actions = (await (await admin('audit')).json()).entries.map((e: { action: string }) => e.action);
    expect(actions.slice(0, 3)).toEqual(['purge', 'restore', 'purge']);
  });

  it('a prefix erasure removes ids ending in .tmp or .meta.json from the directory store too', async () => {
    const hopper = await host.store.get(originalKey('demo', 'mysha'));
    const ids = ['gdpr-1.tmp', 'gdpr-1.meta.json', 'gdpr-1'];
    for (const id of ids) await host.store.put(originalKey('demo', id), hopper!.body, { contentType: hopper!.contentType ?? 'image/png' });
    for (const id of ids) expect((await status(`/demo/${id}/64.webp`)).status, id).toBe(200);
    const r = await admin('erase', { tenant: 'demo', prefix: 'gdpr-1', reason: 'GDPR art. 17', ticket: 'GDPR-1' });
    const body = await r.json();
    expect(r.status).toBe(200);
    expect(body).toMatchObject({ ok: true, erased: 3 });
    expect(body.images.map((i: { id: string }) => i.id).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect((await status(`/demo/${id}/64.webp`)).status, id).toBe(410);
      expect(await host.store.head(originalKey('demo', id))).toBeNull();
      expect(await readdir(join(host.dataDir, variantPrefix('demo', id))).catch(() => [])).toEqual([]);
    }
  });
});
