import { describe, expect, it } from 'vitest';
import { parseEraseInput, parseTakedownInput } from '../../../src/core/admin/admin-input.js';
import { createAdminService } from '../../../src/core/admin/admin-service.js';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { originalKey, tombstoneKey, variantPrefix } from '../../../src/core/storage-keys.js';
import { createFailoverStore } from '../../../src/storage/failover-store.js';
import { createMemoryStore } from '../../support/memory-store.js';

const config = loadServiceConfig({ tenants: { demo: { breakpoints: [64] } } });
const purger = { purge: async (keys: string[]) => keys.map((key) => ({ key, ok: true })) };
const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };
const LEGAL = { reason: 'r', ticket: 't' };

/** Two stores and the admin service a host with a per-call request limit builds (split removals, one image per call). */
function setup() {
  const primary = createMemoryStore();
  const secondary = createMemoryStore();
  const store = createFailoverStore(primary.store, secondary.store);
  // Nothing cached at the edge: a URL is gone when every store holds only the tombstone.
  const service = createAdminService({ store, purger, config, cached: async () => null, splitRemoval: true, maxImagesPerCall: 1, retry: NO_RETRY });
  const seed = async (id: string) => {
    for (const s of [primary.store, secondary.store]) {
      await s.put(originalKey('demo', id), new Uint8Array([1]));
      await s.put(`${variantPrefix('demo', id)}64x64-cover-q75.webp`, new Uint8Array([2]));
    }
  };
  const audit = () =>
    primary
      .keys()
      .filter((k) => k.startsWith('audit/'))
      .sort()
      .map((k) => JSON.parse(new TextDecoder().decode(primary.objects.get(k)!.body)) as Record<string, unknown>);
  return { primary, secondary, service, seed, audit };
}

describe('takedowns and erasures split over calls', () => {
  it('a takedown: the first call removes and is never ok; the continue call verifies and alone says ok', async () => {
    const t = setup();
    await t.seed('u-1');
    const first = await t.service.takedown({ tenant: 'demo', id: 'u-1', ...LEGAL }, 'admin-1');
    expect(first).toMatchObject({ ok: false, more: true });
    expect(first.body).toMatchObject({ ok: false, more: true, next: { id: 'u-1', continue: { stage: 'verify', variants: ['64x64-cover-q75.webp'] } } });
    expect(first.body.verification).toBeNull();
    expect(t.primary.keys().filter((k) => !k.startsWith('audit/'))).toEqual([tombstoneKey('demo', 'u-1')]);
    expect(t.secondary.keys()).toEqual([tombstoneKey('demo', 'u-1')]);

    const next = first.body.next as { id: string; continue: unknown };
    const last = await t.service.takedown(parseTakedownInput({ tenant: 'demo', ...LEGAL, ...next }), 'admin-1');
    expect(last.ok).toBe(true);
    expect(last.body).toMatchObject({
      ok: true,
      verification: {
        ok: true,
        via: 'edge-cache',
        stores: [
          { tombstone: true, remaining: [] },
          { tombstone: true, remaining: [] },
        ],
      },
    });
    const [part, done] = t.audit();
    expect(part).toMatchObject({ action: 'takedown', ok: false, inProgress: { next: 'verify' } });
    expect(done).toMatchObject({ action: 'takedown', ok: true, continues: (first.body.audit as { id: string }).id });
  });

  it('a continue call without the first part (nothing tombstoned) answers INCOMPLETE, never ok', async () => {
    const t = setup();
    await t.seed('u-2');
    const out = await t.service.takedown({ tenant: 'demo', id: 'u-2', ...LEGAL, continue: { stage: 'verify', variants: [], started: '20250101T000000000Z-0001aabbccddeeff' } }, 'admin-1');
    expect(out).toMatchObject({ ok: false, code: 'INCOMPLETE' });
    expect(out.message).toMatch(/verify on (primary|secondary): the store has no tombstone: send the takedown again without `continue`/);
    expect(t.audit().at(-1)).toMatchObject({ ok: false, incomplete: expect.any(String) });
    // Its sweep deleted what it found, but the tombstones were never written: still not ok.
    expect(t.secondary.keys()).toEqual([]);
  });

  it('an erasure by ids: one image and one part per call, the rest as remaining', async () => {
    const t = setup();
    await t.seed('a');
    await t.seed('b');
    const first = await t.service.erase({ tenant: 'demo', ids: ['a', 'b'], ...LEGAL }, 'admin-1');
    expect(first).toMatchObject({ ok: false, more: true, body: { erased: 0, remaining: ['b'], next: { ids: ['a'] } } });
    const second = await t.service.erase(parseEraseInput({ tenant: 'demo', ...LEGAL, ...(first.body.next as object) }), 'admin-1');
    expect(second).toMatchObject({ ok: true, body: { erased: 1, more: false } });
    expect(t.secondary.keys()).toEqual([tombstoneKey('demo', 'a'), originalKey('demo', 'b'), `${variantPrefix('demo', 'b')}64x64-cover-q75.webp`].sort());
  });

  it('validates continue: a stage, valid variant names, an audit id, and one id for an erasure', () => {
    const base = { tenant: 'demo', id: 'u-1', ...LEGAL };
    const ok = { stage: 'verify', variants: ['64x64-cover-q75.webp'], started: '20250101T000000000Z-0001aabbccddeeff' };
    expect(parseTakedownInput({ ...base, continue: ok }).continue).toEqual(ok);
    expect(() => parseTakedownInput({ ...base, continue: { ...ok, stage: 'remove' } })).toThrow(/continue.stage/);
    expect(() => parseTakedownInput({ ...base, continue: { ...ok, variants: ['../../x'] } })).toThrow(/continue.variants\[0\]/);
    expect(() => parseTakedownInput({ ...base, continue: { ...ok, started: 'x' } })).toThrow(/continue.started/);
    expect(() => parseTakedownInput({ ...base, continue: { ...ok, extra: 1 } })).toThrow(/extra/);
    expect(() => parseEraseInput({ tenant: 'demo', ids: ['a', 'b'], ...LEGAL, continue: ok })).toThrow(/exactly one id/);
    expect(() => parseEraseInput({ tenant: 'demo', prefix: 'a', ...LEGAL, continue: ok })).toThrow(/not 'prefix'/);
  });
});
