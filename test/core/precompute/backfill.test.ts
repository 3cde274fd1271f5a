import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { backfillTenant } from '../../../src/core/precompute/backfill.js';
import type { Renderer } from '../../../src/core/ports.js';
import { originalKey, tombstoneKey, variantPrefix } from '../../../src/core/storage-keys.js';
import { createMemoryStore } from '../../support/memory-store.js';

describe('backfill and takedowns', () => {
  it('undoes its writes when the image is taken down while it renders (a takedown in another process)', async () => {
    const { store, keys } = createMemoryStore();
    const tenant = loadServiceConfig({ tenants: { demo: { breakpoints: [32, 64] } } }).tenants.get('demo')!;
    await store.put(originalKey('demo', 'u-1'), new Uint8Array([1, 2, 3]), { metadata: { alpha: '0' } });
    await store.put(originalKey('demo', 'u-2'), new Uint8Array([1, 2, 3]), { metadata: { alpha: '0' } });
    let renders = 0;
    const renderer: Renderer = {
      async render(_src, v) {
        // The takedown of u-1 lands after this image's tombstone check, in the middle of its renders.
        if (v.id === 'u-1' && ++renders === 2) await store.put(tombstoneKey('demo', 'u-1'), new TextEncoder().encode('{}'));
        return { body: new TextEncoder().encode(`${v.id} ${v.width}`), width: v.width, height: v.height, timings: { decode: 0, resize: 0, encode: 0 } };
      },
    };
    const report = await backfillTenant({ store, renderer, tenant, sizes: [32, 64], formats: ['webp'], concurrency: 1 });
    expect(report).toMatchObject({ images: 2, tombstoned: 1, failed: [] });
    expect(keys(variantPrefix('demo', 'u-1'))).toEqual([]);
    expect(keys(variantPrefix('demo', 'u-2'))).toHaveLength(2);
  });
});
