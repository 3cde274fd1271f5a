import type { ObjectStore } from '../ports.js';
import { imageOfKey, tenantPrefix } from '../storage-keys.js';
import { listKeys } from '../list-keys.js';

/**
 * Ids of a tenant's images (anything with an original or a stored variant) in any of `stores`
 * (a failover secondary may hold images the primary lost) whose id starts with `prefix`,
 * sorted; at most `max`, with `more` when there are others. Ids are sharded under the tenant,
 * so this lists the tenant's whole prefix: fine for an erasure, which is rare.
 */
export async function findImageIds(stores: ObjectStore | readonly ObjectStore[], tenant: string, prefix: string, max: number): Promise<{ ids: string[]; more: boolean }> {
  const ids = new Set<string>();
  for (const store of Array.isArray(stores) ? stores : [stores]) {
    for (const kind of ['originals', 'variants'] as const) {
      for await (const key of listKeys(store, tenantPrefix(kind, tenant))) {
        const img = imageOfKey(key);
        if (img && img.tenant === tenant && img.id.startsWith(prefix)) ids.add(img.id);
      }
    }
  }
  const sorted = [...ids].sort();
  return { ids: sorted.slice(0, max), more: sorted.length > max };
}
