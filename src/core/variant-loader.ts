import type { ServiceConfig } from './config/service-config.js';
import { strongEtag } from './etag.js';
import { HttpError } from './errors.js';
import { sniffImage } from './image/sniff.js';
import type { ObjectStore, Renderer, VariantBody, VariantLoader } from './ports.js';
import { originalKey, tombstoneKey, variantObjectKey } from './storage-keys.js';
import { putVariant } from './stored-variant.js';
import { surrogateKeysFor } from './surrogate-keys.js';
import { CONTENT_TYPES, type Variant } from './variant.js';

export interface StoreLoaderDeps {
  store: ObjectStore;
  renderer: Renderer;
  config: ServiceConfig;
  /** Generates a fallback avatar when the original is missing and the tenant asks for one. */
  fallback?: (variant: Variant) => Promise<Uint8Array>;
  /** Called with errors of best-effort work (variant write-back) that must not fail the request. */
  onBackgroundError?: (what: string, err: unknown) => void;
}

/** 410 body for taken-down images; cached briefly under the image's keys so a purge can't resurrect it. */
export async function goneBody(variant: Variant, ttl: number): Promise<VariantBody> {
  const body = new TextEncoder().encode(JSON.stringify({ code: 'GONE', message: 'this image has been removed' }));
  return {
    status: 410,
    body,
    contentType: 'application/json; charset=utf-8',
    etag: await strongEtag(body),
    surrogateKeys: surrogateKeysFor(variant),
    headers: { 'cache-control': `public, max-age=${ttl}` },
    source: 'tombstone',
    timings: {},
    ttl,
  };
}

/**
 * The miss path on hosts that render in process (Node, Deno): tombstone check → stored
 * variant → original → render → write the variant back so each is rendered once per bucket.
 */
export function createStoreLoader(deps: StoreLoaderDeps): VariantLoader {
  const { store, renderer, config } = deps;
  const alphaCache = new Map<string, boolean>();

  return {
    async load(variant: Variant): Promise<VariantBody> {
      const timings: Record<string, number> = {};
      const t0 = performance.now();
      if (await store.head(tombstoneKey(variant.tenant, variant.id))) return goneBody(variant, config.cache.goneTtl);

      const tenant = config.tenants.get(variant.tenant);
      const ttl = tenant?.ttlClass === 'short' ? config.cache.shortTtl : undefined;
      const contentType = CONTENT_TYPES[variant.format];
      const surrogateKeys = surrogateKeysFor(variant);

      const stored = await store.get(variantObjectKey(variant));
      if (stored) {
        timings.origin = performance.now() - t0;
        const etag = stored.metadata?.etag ?? (await strongEtag(stored.body));
        return { status: 200, body: stored.body, contentType, etag, surrogateKeys, source: 'variant-store', timings, ttl };
      }

      const original = await store.get(originalKey(variant.tenant, variant.id));
      timings.origin = performance.now() - t0;
      if (!original) {
        if (tenant?.fallback === 'generated' && deps.fallback) {
          const body = await deps.fallback(variant);
          // Short TTL: once the real original is uploaded, the generated one should go quickly,
          // also from browsers, which a purge cannot reach.
          const ttl = config.cache.notFoundTtl;
          const headers = { 'cache-control': `public, max-age=${ttl}` };
          return { status: 200, body, contentType, etag: await strongEtag(body), surrogateKeys, headers, source: 'generated', timings, ttl };
        }
        throw new HttpError(404, 'NOT_FOUND', `no image '${variant.id}' for tenant '${variant.tenant}'`);
      }

      const rendered = await renderer.render(original.body, variant);
      Object.assign(timings, rendered.timings);
      const etag = await strongEtag(rendered.body);
      await putVariant(store, variant, rendered.body, etag).catch((err) => deps.onBackgroundError?.('variant write-back', err));
      return { status: 200, body: rendered.body, contentType, etag, surrogateKeys, source: 'render', timings, ttl };
    },

    async hasAlpha(tenantName: string, id: string): Promise<boolean> {
      const k = `${tenantName}/${id}`;
      const known = alphaCache.get(k);
      if (known !== undefined) return known;
      // Uploads record the flag in the original's metadata: a HEAD instead of reading the image.
      const info = await store.head(originalKey(tenantName, id));
      if (!info) return false;
      const recorded = info.metadata?.alpha;
      let alpha: boolean;
      if (recorded === '1' || recorded === '0') alpha = recorded === '1';
      else {
        const original = await store.get(originalKey(tenantName, id));
        alpha = original ? (sniffImage(original.body)?.hasAlpha ?? false) : false;
      }
      if (alphaCache.size > 10_000) alphaCache.clear();
      alphaCache.set(k, alpha);
      return alpha;
    },

    forget(tenantName: string, id: string): void {
      alphaCache.delete(`${tenantName}/${id}`);
    },
  };
}
