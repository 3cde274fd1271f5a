import type { CachedStatus } from '../../core/admin/verify-gone.js';
import type { ServiceConfig } from '../../core/config/service-config.js';
import { isHttpError } from '../../core/errors.js';
import { resolveImageRequest } from '../../core/delivery/image-handler.js';
import type { VariantLoader } from '../../core/ports.js';
import { cachedStatus } from './core-cache.js';

/** Never called: resolving a URL to its cache key loads nothing. */
const NO_LOAD: VariantLoader['load'] = () => Promise.reject(new Error('verification resolves URLs, it never loads'));

/**
 * How the admin API checks a takedown on Fastly: each probe URL is resolved to its canonical
 * key(s) the way the image route resolves it (no signature or hotlink check: those would
 * answer 403 in front of a leak) and looked up in Core Cache. No backend request is made:
 * fmt=auto depends on the original's alpha channel (JPEG or PNG without WebP) and on whether it
 * is animated (AVIF or WebP), which would be a bucket read, so every candidate key is looked up
 * instead.
 */
export function createEdgeCacheCheck(config: ServiceConfig, lookup: (key: string) => number | null = cachedStatus): CachedStatus {
  return async (request) => {
    const keys = new Set<string>();
    try {
      for (const alpha of [false, true]) {
        for (const animated of [false, true]) {
          const { key } = await resolveImageRequest(request, { config, loader: { load: NO_LOAD, facts: async () => ({ alpha, animated }) } });
          keys.add(key);
        }
      }
    } catch (err) {
      // The URL is refused before any cache (unknown tenant, bad parameter): it serves nothing.
      if (isHttpError(err)) return err.status;
      throw err;
    }
    const statuses = [...keys].map((k) => lookup(k)).filter((s): s is number => s !== null);
    if (statuses.length === 0) return null;
    // The worst answer wins: a cached image means the URL still serves it.
    return statuses.find((s) => s < 400) ?? statuses.find((s) => s !== 410) ?? 410;
  };
}
