import { describe, expect, it } from 'vitest';
import { removeImages } from '../../../src/core/admin/remove-images.js';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import type { ObjectStore } from '../../../src/core/ports.js';
import { originalKey, tombstoneKey, variantPrefix } from '../../../src/core/storage-keys.js';
import { createFailoverStore } from '../../../src/storage/failover-store.js';
import { createMemoryStore } from '../../support/memory-store.js';

const config = loadServiceConfig({ tenants: { demo: { breakpoints: [64] } } });
const purger = { purge: async (keys: string[]) => keys.map((key) => ({ key, ok: true })) };
const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

/** A memory store that counts its calls, with DeleteObjects (`deleteMany`) or without. */
function counted(withMany: boolean) {
  const mem = createMemoryStore();
  const calls: string[] = [];
  const store: ObjectStore = {
    ...mem.store,
    delete: async (k) => (calls.push(`delete ${k}`), mem.store.delete(k)),
    ...(withMany
      ? {
          deleteMany: async (keys: string[]) => {
            calls.push(`deleteMany ${keys.length}`);
            for (const k of keys) await mem.store.delete(k);
            return { deleted: keys, failed: [] };
          },
        }
      : {}),
  };
  return { mem, calls, store };
}

async function seed(store: ObjectStore, id: string) {
  await store.put(originalKey('demo', id), new Uint8Array([1]));
  await store.put(`${variantPrefix('demo', id)}64x64-cover-q75.webp`, new Uint8Array([2]));
  await store.put(`${variantPrefix('demo', id)}64x64-cover-q75.jpeg`, new Uint8Array([3]));
}

describe('takedown deletes on each replica of a failover store', () => {
  it('with one DeleteObjects per replica that has it, and a DELETE per key on one that does not', async () => {
    const primary = counted(true);
    const secondary = counted(false);
    await seed(primary.store, 'u-1');
    await seed(secondary.store, 'u-1');
    const result = await removeImages(
      { store: createFailoverStore(primary.store, secondary.store), purger, config, retry: NO_RETRY },
      { tenant: 'demo', ids: ['u-1'], action: 'takedown', reason: 'r', ticket: 't', who: 'test' },
    );
    expect(result).toMatchObject({
      ok: true,
      images: [
        {
          id: 'u-1',
          ok: true,
          verification: {
            stores: [
              { store: 'primary', tombstone: true, remaining: [] },
              { store: 'secondary', tombstone: true, remaining: [] },
            ],
          },
        },
      ],
    });
    expect(result.images[0]!.deleted).toHaveLength(3);
    expect(primary.calls).toEqual(['deleteMany 3']);
    expect(secondary.calls.sort()).toEqual([
      `delete ${originalKey('demo', 'u-1')}`,
      `delete ${variantPrefix('demo', 'u-1')}64x64-cover-q75.jpeg`,
      `delete ${variantPrefix('demo', 'u-1')}64x64-cover-q75.webp`,
    ]);
    expect(primary.mem.keys()).toEqual([tombstoneKey('demo', 'u-1')]);
    expect(secondary.mem.keys()).toEqual([tombstoneKey('demo', 'u-1')]);
  });

  it('reports keys DeleteObjects could not delete as failed deletes on that store: INCOMPLETE, never ok', async () => {
    const primary = counted(true);
    const secondary = createMemoryStore();
    await seed(primary.store, 'u-2');
    await seed(secondary.store, 'u-2');
    // The secondary's DeleteObjects refuses one key (S3 answers per key, with a code).
    const stuck = `${variantPrefix('demo', 'u-2')}64x64-cover-q75.webp`;
    const refusing: ObjectStore = {
      ...secondary.store,
      deleteMany: async (keys) => {
        for (const k of keys) if (k !== stuck) await secondary.store.delete(k);
        return { deleted: keys.filter((k) => k !== stuck), failed: keys.includes(stuck) ? [{ key: stuck, error: 'AccessDenied' }] : [] };
      },
    };
    const result = await removeImages(
      { store: createFailoverStore(primary.store, refusing), purger, config, retry: NO_RETRY },
      { tenant: 'demo', ids: ['u-2'], action: 'takedown', reason: 'r', ticket: 't', who: 'test' },
    );
    expect(result.ok).toBe(false);
    expect(result.incomplete).toMatch(new RegExp(`delete on secondary ${stuck}: AccessDenied`));
    expect(secondary.keys()).toEqual([stuck, tombstoneKey('demo', 'u-2')].sort());
    expect(primary.mem.keys()).toEqual([tombstoneKey('demo', 'u-2')]);
  });
});

describe('failover store deleteMany', () => {
  it('deletes on both stores; a key counts as deleted only when both deleted it', async () => {
    const primary = counted(true);
    const secondary = createMemoryStore();
    for (const k of ['a', 'b']) {
      await primary.store.put(k, new Uint8Array([1]));
      await secondary.store.put(k, new Uint8Array([1]));
    }
    const failing: ObjectStore = { ...secondary.store, delete: async (k) => (k === 'b' ? Promise.reject(new Error('connection refused')) : secondary.store.delete(k)) };
    const r = await createFailoverStore(primary.store, failing).deleteMany!(['a', 'b']);
    expect(r).toEqual({ deleted: ['a'], failed: [{ key: 'b', error: 'secondary: connection refused' }] });
    expect(primary.calls).toEqual(['deleteMany 2']);
    expect(primary.mem.keys()).toEqual([]);
    expect(secondary.keys()).toEqual(['b']);
  });
});
