import { sniffImage } from '../../core/image/sniff.js';
import type { ObjectStore, VariantCache } from '../../core/ports.js';
import { originalKey } from '../../core/storage-keys.js';
import { imageKey, tenantKey } from '../../core/surrogate-keys.js';
import { getWithOptions } from '../../storage/get-options.js';

/** Every header sniff.ts reads (IHDR + tRNS, VP8X, JPEG SOF) sits well inside the first 64 KiB. */
export const PROBE_BYTES = 64 * 1024;

class MissingOriginal extends Error {}

/**
 * Whether an original has alpha, for fmt=auto without WebP in Accept (PNG for alpha, else
 * JPEG): a ranged read of the original's first bytes from the bucket, header-sniffed (no
 * decoding), remembered in the edge cache under the image's surrogate keys so a purge or a
 * takedown of the image forgets it too.
 */
export function createAlphaProbe(store: ObjectStore, cache: VariantCache, ttl: { ttl: number; swr: number }) {
  return async (tenant: string, id: string): Promise<boolean> => {
    try {
      const { value } = await cache.getOrLoad(
        `alpha:${tenant}/${id}`,
        async () => {
          const head = await getWithOptions(store, originalKey(tenant, id), { range: { start: 0, end: PROBE_BYTES - 1 } });
          if (!head) throw new MissingOriginal();
          const alpha = sniffImage(head.body)?.hasAlpha ?? false;
          return {
            status: 200,
            body: Uint8Array.of(alpha ? 1 : 0),
            contentType: 'application/octet-stream',
            etag: alpha ? '"a1"' : '"a0"',
            surrogateKeys: [tenantKey(tenant), imageKey(tenant, id)],
            source: 'variant-store',
            timings: {},
          };
        },
        ttl,
      );
      return value.body[0] === 1;
    } catch (err) {
      // No original: the variant request will answer 404 (or the tenant's generated fallback) on its own.
      if (err instanceof MissingOriginal) return false;
      throw err;
    }
  };
}
