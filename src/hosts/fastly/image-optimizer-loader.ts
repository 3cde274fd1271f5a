import type { ImageOptimizerOptions } from 'fastly:image-optimizer';
import type { ServiceConfig } from '../../core/config/service-config.js';
import { strongEtag } from '../../core/delivery/etag.js';
import { HttpError } from '../../core/errors.js';
import type { ObjectStore, VariantBody, VariantLoader } from '../../core/ports.js';
import type { OriginalFacts } from '../../core/request/negotiate-format.js';
import { originalKey } from '../../core/storage-keys.js';
import { surrogateKeysFor } from '../../core/surrogate-keys.js';
import { isTombstoned } from '../../core/tombstone.js';
import { goneBody } from '../../core/delivery/variant-loader.js';
import { CONTENT_TYPES, type Variant } from '../../core/variant.js';
import type { ImageOptimizerRegion } from './settings.js';

/**
 * Fastly Image Optimizer as the render step (RENDER_MODE=image-optimizer, for accounts that
 * have the product): the original is read from the bucket with the transformation attached
 * to that fetch, and Fastly's image service answers with the variant. No renderer involved;
 * the tombstone is still checked first so a taken-down image cannot come back.
 */
export interface ImageOptimizerLoaderDeps {
  config: ServiceConfig;
  /** The bucket as a plain store (tombstones). */
  store: ObjectStore;
  /** The same bucket, reading through Image Optimizer with these options. */
  storeWith: (options: ImageOptimizerOptions) => ObjectStore;
  region: ImageOptimizerRegion;
  facts: (tenant: string, id: string) => Promise<OriginalFacts>;
}

/** Our canonical variant in Image Optimizer's terms (see render/geometry.ts for what each fit means). */
export function imageOptimizerOptions(v: Variant, region: ImageOptimizerRegion): ImageOptimizerOptions {
  const o: ImageOptimizerOptions = { region, format: v.format === 'jpeg' ? 'jpg' : v.format };
  if (v.format !== 'png') o.quality = v.quality;
  if (v.width) o.width = v.width;
  if (v.height) o.height = v.height;
  if (v.width && v.height && v.fit === 'cover') {
    // Fill the box and centre-crop, enlarging small sources like the renderer does.
    o.fit = 'crop';
    o.enable = 'upscale';
    // Face/auto crops: Image Optimizer's own content-aware crop (it detects faces too) to the
    // box's aspect first; our focal records are made by the renderer hosts only.
    if (v.gravity && v.gravity !== 'center') o.crop = { size: { ratio: { width: v.width, height: v.height } }, mode: 'smart' };
  } else if (v.width && v.height && v.fit === 'contain') {
    o.fit = 'bounds';
    o.enable = 'upscale';
    o.canvas = { size: { absolute: { width: v.width, height: v.height } } };
    // JPEG has no alpha: white, as the renderer flattens; otherwise a transparent letterbox.
    o.bgColor = v.format === 'jpeg' ? 'ffffff' : { r: 0, g: 0, b: 0, a: 0 };
  } else {
    // inside, or one free side: fit within, never enlarge.
    o.fit = 'bounds';
  }
  return o;
}

export function createImageOptimizerLoader(deps: ImageOptimizerLoaderDeps): VariantLoader {
  const { config } = deps;
  return {
    async load(variant: Variant): Promise<VariantBody> {
      const t0 = performance.now();
      if (await isTombstoned(deps.store, variant.tenant, variant.id)) return goneBody(variant, config.cache.goneTtl);
      const obj = await deps.storeWith(imageOptimizerOptions(variant, deps.region)).get(originalKey(variant.tenant, variant.id));
      if (!obj) throw new HttpError(404, 'NOT_FOUND', `no image '${variant.id}' for tenant '${variant.tenant}'`);
      const tenant = config.tenants.get(variant.tenant);
      const ttl = tenant?.ttlClass === 'short' ? config.cache.shortTtl : undefined;
      return {
        status: 200,
        body: obj.body,
        contentType: CONTENT_TYPES[variant.format],
        etag: await strongEtag(obj.body),
        surrogateKeys: surrogateKeysFor(variant),
        source: 'render',
        timings: { origin: performance.now() - t0 },
        ...(ttl === undefined ? {} : { ttl }),
      };
    },
    facts: deps.facts,
  };
}
