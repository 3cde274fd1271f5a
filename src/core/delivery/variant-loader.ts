import type { ServiceConfig } from '../config/service-config.js';
import { strongEtag } from './etag.js';
import { HttpError } from '../errors.js';
import { originalHasAlpha } from '../image/original-alpha.js';
import { originalIsAnimated } from '../image/original-animation.js';
import type { ImageWork, InFlightRegistry } from '../in-flight.js';
import type { OriginalFacts } from '../request/negotiate-format.js';
import type { LoadOptions, ObjectStore, Renderer, VariantBody, VariantLoader } from '../ports.js';
import { originalKey, variantObjectKey } from '../storage-keys.js';
import { putVariant } from './stored-variant.js';
import { surrogateKeysFor } from '../surrogate-keys.js';
import { isTombstoned } from '../tombstone.js';
import { CONTENT_TYPES, type Variant } from '../variant.js';
import { type FocalRecord, decodeFocalRecord, encodeFocalRecord, focalKey, wantsFocal } from '../focal-point.js';

export interface StoreLoaderDeps {
  store: ObjectStore;
  renderer: Renderer;
  config: ServiceConfig;
  /** Generates a fallback avatar when the original is missing and the tenant asks for one. */
  fallback?: (variant: Variant) => Promise<Uint8Array>;
  /** Called with errors of best-effort work (variant write-back) that must not fail the request. */
  onBackgroundError?: (what: string, err: unknown) => void;
  /** Loads in flight per image, so a takedown in this process can cancel them (in-flight.ts). */
  inFlight?: InFlightRegistry;
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
  const factsCache = new Map<string, OriginalFacts>();

  async function loadVariant(variant: Variant, work: ImageWork | undefined, opts: LoadOptions | undefined): Promise<VariantBody> {
    const timings: Record<string, number> = {};
    const t0 = performance.now();
    const gone = () => goneBody(variant, config.cache.goneTtl);
    // Registered (begin) before this check: a takedown either cancels this load or wrote its tombstone first.
    if (await isTombstoned(store, variant.tenant, variant.id)) return gone();

    const tenant = config.tenants.get(variant.tenant);
    const ttl = tenant?.ttlClass === 'short' ? config.cache.shortTtl : undefined;
    const contentType = CONTENT_TYPES[variant.format];
    const surrogateKeys = surrogateKeysFor(variant);

    const stored = await store.get(variantObjectKey(variant));
    if (stored) {
      if (work?.cancelled) return gone();
      timings.origin = performance.now() - t0;
      const etag = stored.metadata?.etag ?? (await strongEtag(stored.body));
      return { status: 200, body: stored.body, contentType, etag, surrogateKeys, source: 'variant-store', timings, ttl };
    }

    // A face/auto crop's focal record is read alongside the original: no added wait.
    const [original, withFocal] = await Promise.all([store.get(originalKey(variant.tenant, variant.id)), withStoredFocal(variant)]);
    timings.origin = performance.now() - t0;
    if (!original) {
      if (tenant?.fallback === 'generated' && deps.fallback) {
        const body = await deps.fallback(variant);
        if (work?.cancelled) return gone();
        // Short TTL: once the real original is uploaded, the generated one should go quickly,
        // also from browsers, which a purge cannot reach.
        const ttl = config.cache.notFoundTtl;
        const headers = { 'cache-control': `public, max-age=${ttl}` };
        return { status: 200, body, contentType, etag: await strongEtag(body), surrogateKeys, headers, source: 'generated', timings, ttl };
      }
      throw new HttpError(404, 'NOT_FOUND', `no image '${variant.id}' for tenant '${variant.tenant}'`);
    }

    opts?.beforeRender?.(variant);
    // Nothing reads the original after this: a store's own copy goes to the render thread as it is.
    const rendered = await renderer.render(original.body, withFocal, original.owned ? { handOver: true } : undefined);
    Object.assign(timings, rendered.timings);
    const etag = await strongEtag(rendered.body);
    // A render takes long enough for a takedown to start meanwhile: then nothing is stored or served.
    if (!(await writeBack(work, variant, rendered.body, etag, rendered.focal))) return gone();
    return { status: 200, body: rendered.body, contentType, etag, surrogateKeys, source: 'render', timings, ttl };
  }

  /**
   * A face/auto cover crop carries the original's stored focal record, so the renderer does
   * not detect again; without one (never found, or unreadable) the renderer finds it. One small
   * read, in parallel with the original's, only on renders that need it: cache hits and stored
   * variants never get here. A failed read only means detecting again.
   */
  async function withStoredFocal(variant: Variant): Promise<Variant> {
    if (!wantsFocal(variant)) return variant;
    const stored = await store.get(focalKey(variant.tenant, variant.id)).catch((err) => (deps.onBackgroundError?.('focal point read', err), null));
    const focal = stored ? decodeFocalRecord(stored.body) : undefined;
    return focal ? { ...variant, focal } : variant;
  }

  /**
   * Whether a takedown started since this load checked the tombstone: cancelled by a takedown
   * in this process, or a tombstone in the store (a takedown run by another process). A store
   * failure here fails the request: serving or storing what may be taken down is worse.
   */
  async function takenDown(work: ImageWork | undefined, variant: Variant): Promise<boolean> {
    return work?.cancelled === true || (await isTombstoned(store, variant.tenant, variant.id));
  }

  /**
   * Stores a rendered variant unless a takedown started, then checks again: a takedown that
   * began between the check and the write either sees the write when it lists the image, or
   * is seen here, and the write is undone. Returns false when the image was taken down.
   */
  async function writeBack(work: ImageWork | undefined, variant: Variant, body: Uint8Array, etag: string, focal?: FocalRecord): Promise<boolean> {
    if (await takenDown(work, variant)) return false;
    // The focal sidecar lives under the variant prefix: the same takedown checks cover it.
    const fkey = focalKey(variant.tenant, variant.id);
    const written: string[] = [];
    const write = (key: string, put: Promise<unknown>, what: string) =>
      put.then(
        () => void written.push(key),
        (err) => deps.onBackgroundError?.(what, err),
      );
    await Promise.all([
      write(variantObjectKey(variant), putVariant(store, variant, body, etag), 'variant write-back'),
      focal && write(fkey, store.put(fkey, encodeFocalRecord(focal), { contentType: 'application/json' }), 'focal point write-back'),
    ]);
    const undo = (onError: (err: unknown) => void) => Promise.all(written.map((key) => store.delete(key).catch(onError)));
    let gone: boolean;
    try {
      gone = await takenDown(work, variant);
    } catch (err) {
      await undo(() => {});
      throw err;
    }
    if (gone) await undo((err) => deps.onBackgroundError?.('undoing a write-back after a takedown', err));
    return !gone;
  }

  return {
    async load(variant: Variant, opts?: LoadOptions): Promise<VariantBody> {
      const work = deps.inFlight?.begin(variant.tenant, variant.id);
      try {
        return await loadVariant(variant, work, opts);
      } finally {
        work?.end();
      }
    },

    async facts(tenantName: string, id: string): Promise<OriginalFacts> {
      const k = `${tenantName}/${id}`;
      const known = factsCache.get(k);
      if (known !== undefined) return known;
      // Uploads record the flags in the original's metadata: a HEAD instead of reading the image.
      const key = originalKey(tenantName, id);
      const info = await store.head(key);
      if (!info) return { alpha: false, animated: false };
      // Originals stored before the flags are read (once for both) and sniffed.
      let body: Promise<Uint8Array | undefined> | undefined;
      const read = () => (body ??= store.get(key).then((o) => o?.body));
      const facts = { alpha: (await originalHasAlpha(info.metadata, read)) ?? false, animated: (await originalIsAnimated(info, read)) ?? false };
      if (factsCache.size > 10_000) factsCache.clear();
      factsCache.set(k, facts);
      return facts;
    },

    forget(tenantName: string, id: string): void {
      factsCache.delete(`${tenantName}/${id}`);
    },
  };
}
