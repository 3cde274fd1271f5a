import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createAdminService } from '../../../src/core/admin/admin-service.js';
import { createCachePurger } from '../../../src/core/purge/purger.js';
import { isTombstoned, readTombstone } from '../../../src/core/tombstone.js';
import { createInFlightRegistry } from '../../../src/core/in-flight.js';
import { findImageIds } from '../../../src/core/admin/find-images.js';
import { originalKey, tombstoneKey, variantPrefix } from '../../../src/core/storage-keys.js';
import { adminFixture, TOKEN } from './fixture.js';

const WARM = ['/demo/u-1?w=64', '/demo/u-1/64.webp', '/demo/u-1/128.png', '/demo/u-1?w=256&h=256&fmt=jpeg', '/demo/u-1?w=32&fit=contain&h=64', '/demo/u-1'];
const takedown = { tenant: 'demo', id: 'u-1', reason: 'DMCA notice', ticket: 'LEGAL-1' };

async function warmed() {
  const f = adminFixture();
  await f.seed('demo', 'u-1');
  await f.seed('demo', 'u-2');
  for (const p of WARM) expect((await f.get(p)).status).toBe(200);
  for (const p of WARM) expect((await f.get(p)).headers.get('x-cache')).toBe('HIT');
  expect((await f.get('/demo/u-2/64.webp')).status).toBe(200);
  return f;
}

describe('takedown (in process)', () => {
  it('tombstones, deletes original and variants, purges, verifies and audits', async () => {
    const f = await warmed();
    const variantsBefore = f.keys(variantPrefix('demo', 'u-1'));
    expect(variantsBefore.length).toBeGreaterThanOrEqual(5);

    const res = await f.admin('POST', 'takedown', takedown);
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.deleted.sort()).toEqual([originalKey('demo', 'u-1'), ...variantsBefore].sort());
    expect(body.purge).toMatchObject([{ key: 'i:demo/u-1', ok: true, soft: false }]);
    expect(body.purge[0].purged).toBeGreaterThanOrEqual(5);
    // 2 default URLs + 4 breakpoints × (3 formats × 2 forms + 1) + the stored variants' own URLs.
    expect(body.verification).toMatchObject({ ok: true, remaining: [], tombstone: true, failures: [] });
    expect(body.verification.checked).toBeGreaterThanOrEqual(30 + variantsBefore.length);
    expect(body.verification.gone).toBe(body.verification.checked);

    for (const p of WARM) expect((await f.get(p)).status).toBe(410);
    expect(f.keys(variantPrefix('demo', 'u-1'))).toEqual([]);
    expect(f.objects.has(originalKey('demo', 'u-1'))).toBe(false);
    expect(await isTombstoned(f.store, 'demo', 'u-1')).toBe(true);
    expect(await readTombstone(f.store, 'demo', 'u-1')).toMatchObject({ reason: 'DMCA notice', ticket: 'LEGAL-1', who: 'admin-1', action: 'takedown' });
    // The neighbour is untouched and still cached.
    expect((await f.get('/demo/u-2/64.webp')).headers.get('x-cache')).toBe('HIT');

    const audit = await (await f.admin('GET', 'audit')).json();
    expect(audit.entries).toHaveLength(1);
    const entry = audit.entries[0];
    expect(entry).toMatchObject({
      id: body.audit.id,
      action: 'takedown',
      who: 'admin-1',
      ok: true,
      reason: 'DMCA notice',
      ticket: 'LEGAL-1',
      keys: ['i:demo/u-1'],
      target: { tenant: 'demo', ids: ['u-1'] },
    });
    expect(entry.verification.ok).toBe(true);
    expect(entry.deleted).toHaveLength(variantsBefore.length + 1);
    expect(JSON.stringify([...f.objects.values()].map((o) => new TextDecoder().decode(o.body)))).not.toContain(TOKEN);
    expect(await (await f.admin('GET', `audit/${entry.id}`)).json()).toEqual(entry);
  });

  it('cannot be re-rendered, even if the original comes back without a restore', async () => {
    const f = await warmed();
    await f.admin('POST', 'takedown', takedown);
    const renders = f.fake.state.renders;
    await f.seed('demo', 'u-1'); // an upload path that forgot isTombstoned()
    await f.cache.purge(['i:demo/u-1'], false);
    for (const p of [...WARM, '/demo/u-1/512.webp', '/demo/u-1?w=48&fmt=png']) expect((await f.get(p)).status).toBe(410);
    expect(f.fake.state.renders).toBe(renders);
  });

  it('a render in flight when the takedown starts is neither stored nor served, and the takedown waits for it', async () => {
    const f = adminFixture();
    await f.seed('demo', 'u-1');
    let release!: () => void;
    f.fake.state.gate = new Promise<void>((r) => (release = r));
    const started = new Promise<void>((r) => (f.fake.state.started = r));
    const inflight = f.get('/demo/u-1/256.webp');
    await started;
    let answered = false;
    const pending = f.admin('POST', 'takedown', takedown).then(async (r) => ((answered = true), { status: r.status, body: await r.json() }));
    // The render finishes only once the takedown has tombstoned and deleted: it must not write back.
    while (f.objects.has(originalKey('demo', 'u-1'))) await new Promise((r) => setTimeout(r, 1));
    expect(answered).toBe(false); // fenced: the takedown waits for the render in flight
    release();
    const res = await inflight;
    expect(res.status).toBe(410);
    expect((await res.json()).code).toBe('GONE');
    const { status, body } = await pending;
    expect(status).toBe(200);
    expect(body.ok).toBe(true);
    expect(f.keys(variantPrefix('demo', 'u-1'))).toEqual([]);
    expect(f.keys()).toEqual(expect.arrayContaining([tombstoneKey('demo', 'u-1')]));
    expect((await f.get('/demo/u-1/256.webp')).status).toBe(410);
  });

  it('a render in another process re-checks the tombstone before writing back: nothing stored, 410', async () => {
    const renderer = adminFixture();
    const admin = adminFixture(renderer); // same store, its own process-local state
    await renderer.seed('demo', 'u-1');
    let release!: () => void;
    renderer.fake.state.gate = new Promise<void>((r) => (release = r));
    const started = new Promise<void>((r) => (renderer.fake.state.started = r));
    const inflight = renderer.get('/demo/u-1/256.webp');
    await started;
    const body = await (await admin.admin('POST', 'takedown', takedown)).json();
    expect(body.ok).toBe(true); // nothing to fence in its own process
    release();
    expect((await inflight).status).toBe(410);
    expect(renderer.keys(variantPrefix('demo', 'u-1'))).toEqual([]);
  });

  it('a write-back that races the tombstone is undone by the render itself', async () => {
    const f = adminFixture();
    await f.seed('demo', 'u-1');
    const put = f.store.put.bind(f.store);
    // Another process tombstones and deletes right after this render's check, before its write lands.
    f.store.put = async (k, b, o) => {
      if (k.startsWith(variantPrefix('demo', 'u-1'))) {
        f.objects.set(tombstoneKey('demo', 'u-1'), { body: new TextEncoder().encode('{}') });
        f.objects.delete(originalKey('demo', 'u-1'));
      }
      return put(k, b, o);
    };
    expect((await f.get('/demo/u-1/256.webp')).status).toBe(410);
    expect(f.keys(variantPrefix('demo', 'u-1'))).toEqual([]);
  });

  it('an upload in another process re-checks the tombstone after its writes and undoes them', async () => {
    const uploader = adminFixture();
    const admin = adminFixture(uploader); // same store, its own process-local state
    const jpeg = new Uint8Array(await readFile(new URL('../../../samples/demo/hopper.jpg', import.meta.url)));
    let release!: () => void;
    let renders = 0;
    const held = new Promise<void>((r) => {
      uploader.fake.state.started = () => {
        // Hold the second render: the original and the first variant are stored by then.
        if (++renders === 2) {
          uploader.fake.state.gate = new Promise<void>((g) => (release = g));
          r();
        }
      };
    });
    const upload = uploader.app.fetch(new Request('http://localhost/_upload/demo/u-9', { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` }, body: jpeg }));
    await held;
    expect(uploader.objects.has(originalKey('demo', 'u-9'))).toBe(true);
    const body = await (await admin.admin('POST', 'takedown', { ...takedown, id: 'u-9' })).json();
    expect(body.ok).toBe(true);
    release();
    const res = await upload;
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'TAKEN_DOWN', message: expect.stringMatching(/while this upload ran/) });
    expect(uploader.keys().filter((k) => k.includes('/u-9'))).toEqual([tombstoneKey('demo', 'u-9')]);
  });

  it('is idempotent: a second takedown of the same image succeeds and is audited again', async () => {
    const f = await warmed();
    expect((await f.admin('POST', 'takedown', takedown)).status).toBe(200);
    const again = await (await f.admin('POST', 'takedown', { ...takedown, ticket: 'LEGAL-2' })).json();
    expect(again.ok).toBe(true);
    expect(again.deleted).toEqual([]);
    expect((await (await f.admin('GET', 'audit')).json()).entries.map((e: { ticket: string }) => e.ticket)).toEqual(['LEGAL-2', 'LEGAL-1']);
  });
});

describe('restore', () => {
  it('removes the tombstone; the image stays gone until a fresh upload', async () => {
    const f = await warmed();
    await f.admin('POST', 'takedown', takedown);
    expect((await f.get('/demo/u-1/64.webp')).status).toBe(410);

    const res = await f.admin('POST', 'restore', { tenant: 'demo', id: 'u-1', reason: 'counter-notice accepted' });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ ok: true, previous: { ticket: 'LEGAL-1' }, purge: [{ key: 'i:demo/u-1', ok: true }] });
    expect(f.objects.has(tombstoneKey('demo', 'u-1'))).toBe(false);
    expect((await f.get('/demo/u-1/64.webp')).status).toBe(404);

    await f.seed('demo', 'u-1');
    await f.cache.purge(['i:demo/u-1'], false); // what the upload path does after writing
    expect((await f.get('/demo/u-1/64.webp')).status).toBe(200);
    const entries = (await (await f.admin('GET', 'audit')).json()).entries;
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['restore', 'takedown']);
    expect(entries[0]).toMatchObject({ who: 'admin-1', reason: 'counter-notice accepted', deleted: [tombstoneKey('demo', 'u-1')] });
  });

  it('answers 404 NOT_TAKEN_DOWN when there is nothing to reverse, and writes nothing', async () => {
    const f = await warmed();
    const before = f.keys();
    const res = await f.admin('POST', 'restore', { tenant: 'demo', id: 'u-1', reason: 'oops' });
    expect(res.status).toBe(404);
    expect((await res.json()).code).toBe('NOT_TAKEN_DOWN');
    expect(f.keys()).toEqual(before);
  });
});

describe('erase', () => {
  async function tenantWithImages() {
    const f = adminFixture();
    for (const id of ['u-42-a', 'u-42-b', 'u-43-a']) {
      await f.seed('acme', id);
      expect((await f.get(`/acme/${id}/64.webp`)).status).toBe(200);
    }
    return f;
  }
  const legal = { reason: 'GDPR art. 17', ticket: 'GDPR-7' };

  it('erases every image whose id starts with a prefix', async () => {
    const f = await tenantWithImages();
    const body = await (await f.admin('POST', 'erase', { tenant: 'acme', prefix: 'u-42-', ...legal })).json();
    expect(body).toMatchObject({ ok: true, erased: 2, more: false });
    expect(body.images.map((i: { id: string }) => i.id)).toEqual(['u-42-a', 'u-42-b']);
    expect((await f.get('/acme/u-42-a/64.webp')).status).toBe(410);
    expect((await f.get('/acme/u-42-b/128.png')).status).toBe(410);
    expect((await f.get('/acme/u-43-a/64.webp')).headers.get('x-cache')).toBe('HIT');
    expect(f.keys('originals/acme/').length).toBe(1);
    const entry = (await (await f.admin('GET', 'audit')).json()).entries[0];
    expect(entry).toMatchObject({ action: 'erase', ok: true, target: { tenant: 'acme', prefix: 'u-42-', ids: ['u-42-a', 'u-42-b'] } });
    expect(entry.images.every((i: { verification: { ok: boolean } }) => i.verification.ok)).toBe(true);
  });

  it('erases a list of ids, including ids with nothing stored (they are tombstoned all the same)', async () => {
    const f = await tenantWithImages();
    const body = await (await f.admin('POST', 'erase', { tenant: 'acme', ids: ['u-43-a', 'never-uploaded'], ...legal })).json();
    expect(body).toMatchObject({ ok: true, erased: 2 });
    expect(await isTombstoned(f.store, 'acme', 'never-uploaded')).toBe(true);
  });

  it('erases a whole tenant only with confirm, and purges the tenant key', async () => {
    const f = await tenantWithImages();
    const refused = await f.admin('POST', 'erase', { tenant: 'acme', prefix: '', ...legal });
    expect(refused.status).toBe(400);
    expect((await refused.json()).code).toBe('CONFIRM_REQUIRED');
    expect(f.keys('originals/acme/').length).toBe(3);

    const body = await (await f.admin('POST', 'erase', { tenant: 'acme', prefix: '', confirm: 'acme', ...legal })).json();
    expect(body).toMatchObject({ ok: true, erased: 3 });
    expect(body.purge.map((p: { key: string }) => p.key)).toContain('t:acme');
    expect(f.keys('originals/acme/')).toEqual([]);
    expect(f.keys('variants/acme/')).toEqual([]);
  });

  it('findImageIds pages through a tenant and says when there are more', async () => {
    const f = await tenantWithImages();
    expect(await findImageIds(f.store, 'acme', 'u-4', 2)).toEqual({ ids: ['u-42-a', 'u-42-b'], more: true });
    expect(await findImageIds(f.store, 'acme', 'u-43', 2)).toEqual({ ids: ['u-43-a'], more: false });
    expect(await findImageIds(f.store, 'demo', '', 2)).toEqual({ ids: [], more: false });
  });
});

describe('fence', () => {
  it('a takedown whose in-flight work does not end in time answers INCOMPLETE naming the fence', async () => {
    const f = adminFixture();
    const inFlight = createInFlightRegistry();
    const stuck = inFlight.begin('demo', 'u-1'); // a render that never finishes
    const service = createAdminService({ store: f.store, purger: createCachePurger(f.cache), config: f.config, inFlight, fenceTimeoutMs: 20 });
    const out = await service.takedown(takedown, 'admin-1');
    expect(out).toMatchObject({ ok: false, code: 'INCOMPLETE', message: 'fence: 1 render(s) or upload(s) of this image were still running when the wait ran out' });
    expect(stuck.cancelled).toBe(true);
    stuck.end();
    // Once it has ended, the same takedown completes.
    expect(await service.takedown(takedown, 'admin-1')).toMatchObject({ ok: true });
    expect(inFlight.begin('demo', 'u-1').cancelled).toBe(false); // later work starts uncancelled (the tombstone stops it)
  });
});
