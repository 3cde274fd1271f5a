import { describe, expect, it } from 'vitest';
import { verifyGone } from '../../../src/core/admin/verify-gone.js';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { originalKey, tombstoneKey, variantPrefix } from '../../../src/core/storage-keys.js';
import type { ObjectStore, StoreReplica } from '../../../src/core/ports.js';
import { createMemoryStore } from '../../support/memory-store.js';

const config = loadServiceConfig({ tenants: { demo: { breakpoints: [64, 128] } } });
const tenant = config.tenants.get('demo')!;
const primary = (store: ObjectStore): StoreReplica[] => [{ name: 'primary', store }];

/** A store in the state a finished takedown leaves: the tombstone and nothing else. */
async function takenDown() {
  const mem = createMemoryStore();
  await mem.store.put(tombstoneKey('demo', 'x'), new TextEncoder().encode('{}'));
  return mem;
}

describe('takedown verification by edge-cache lookups (no request per URL)', () => {
  it('counts an uncached URL as gone when the store holds the tombstone and nothing else', async () => {
    const mem = await takenDown();
    const asked: string[] = [];
    const report = await verifyGone({ stores: primary(mem.store), cached: async (r) => (asked.push(new URL(r.url).pathname + new URL(r.url).search), null) }, tenant, 'demo', 'x', [
      '64x64-cover-q75.webp',
    ]);
    expect(report).toMatchObject({ ok: true, via: 'edge-cache', failures: [], remaining: [], tombstone: true });
    expect(report.checked).toBeGreaterThan(10);
    expect(report.gone).toBe(report.checked);
    expect(report.notCached).toBe(report.checked);
    expect(report.probes!.map((p) => p.path)).toEqual(asked);
    expect(asked).toContain('/demo/x?w=64&h=64&fit=cover&q=75&fmt=webp');
  });

  it('fails on a URL whose cached copy is still the image, and counts cached 410s as gone', async () => {
    const mem = await takenDown();
    const report = await verifyGone({ stores: primary(mem.store), cached: async (r) => (r.url.endsWith('/demo/x/64.webp') ? 200 : 410) }, tenant, 'demo', 'x', []);
    expect(report.ok).toBe(false);
    expect(report.failures).toEqual([{ url: '/demo/x/64.webp', status: 200 }]);
    expect(report.gone).toBe(report.checked - 1);
    expect(report.notCached).toBe(0);
  });

  it('does not count uncached URLs as gone while the store still has something to render from', async () => {
    const mem = await takenDown();
    await mem.store.put(`${variantPrefix('demo', 'x')}64x64-cover-q75.webp`, new Uint8Array([1]));
    const report = await verifyGone({ stores: primary(mem.store), cached: async () => null }, tenant, 'demo', 'x', []);
    expect(report.ok).toBe(false);
    expect(report.gone).toBe(0);
    expect(report.remaining).toEqual([`${variantPrefix('demo', 'x')}64x64-cover-q75.webp`]);
    expect(report.failures[0]).toMatchObject({ status: null, error: 'not cached, and a store still holds the image or no tombstone' });

    const noTombstone = createMemoryStore();
    expect(await verifyGone({ stores: primary(noTombstone.store), cached: async () => null }, tenant, 'demo', 'x', [])).toMatchObject({ ok: false, gone: 0, tombstone: false });
  });

  it('reports a store it cannot read instead of throwing, and is then not ok', async () => {
    const mem = await takenDown();
    const broken = { ...mem.store, head: async () => Promise.reject(new Error('backend request limit reached: 10 per execution')) };
    const report = await verifyGone({ stores: primary(broken), cached: async () => 410 }, tenant, 'demo', 'x', []);
    expect(report).toMatchObject({ ok: false, storeError: 'primary: backend request limit reached: 10 per execution' });
    expect(report.gone).toBe(report.checked);
    expect(await mem.store.head(originalKey('demo', 'x'))).toBeNull();
  });
});
