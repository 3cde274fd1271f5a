import { AVIF_MIN_AUTO_SIDE } from '../request/negotiate-format.js';
import type { Tenant } from '../config/tenant-config.js';
import { snapUp } from '../request/canonicalize.js';
import type { Format, Variant } from '../variant.js';

/**
 * The variants worth rendering ahead of requests (on upload, or by `npm run precompute`):
 * square `cover` boxes at the tenant's default quality, which is what the template form
 * (`/{tenant}/{id}/{size}.{ext}`), `?w=N&h=N` and the bare `/{tenant}/{id}` resolve to.
 *
 * Sizes: the tenant's breakpoints up to PRECOMPUTE_MAX_SIZE, plus the default size. Above
 * that, a render costs several times more (decode dominates for small boxes, encode for big
 * ones) and large avatars are rare; they render on first request and are written back.
 *
 * Formats: the ones `fmt=auto` can resolve to for this image: WebP, and for clients without
 * WebP, PNG when the source has alpha, JPEG otherwise. A tenant's explicit `fmt=png` for a
 * photo is rare enough to render on demand.
 */
export const PRECOMPUTE_MAX_SIZE = 512;

export interface StandardVariantOptions {
  /** Does the original have an alpha channel (decides JPEG vs PNG for legacy clients). */
  hasAlpha: boolean;
  /** Box sizes instead of the default ladder; each is snapped up to the tenant's breakpoints. */
  sizes?: readonly number[];
  /** Formats instead of the auto-negotiated ones; must be among the tenant's formats. */
  formats?: readonly Format[];
}

export function standardSizes(tenant: Tenant, sizes?: readonly number[]): number[] {
  const wanted = sizes?.length ? sizes.map((s) => snapUp(s, tenant.breakpoints)) : [...tenant.breakpoints.filter((b) => b <= PRECOMPUTE_MAX_SIZE), snapUp(tenant.defaultSize, tenant.breakpoints)];
  return [...new Set(wanted)].sort((a, b) => a - b);
}

export function standardFormats(tenant: Tenant, hasAlpha: boolean, formats?: readonly Format[], size = 0): Format[] {
  // By default what fmt=auto can answer at this size: the tenant's modern formats (AVIF when
  // allowed and the size is one auto gives AVIF for), then JPEG or PNG.
  const modern = (tenant.autoFormats ?? ['webp']).filter((f) => f !== 'avif' || !(size > 0 && size < AVIF_MIN_AUTO_SIDE));
  const wanted: Format[] = formats?.length ? [...formats] : [...modern, 'webp', hasAlpha ? 'png' : 'jpeg'];
  return [...new Set(wanted)].filter((f) => tenant.formats.includes(f));
}

export function standardVariants(tenant: Tenant, id: string, opts: StandardVariantOptions): Variant[] {
  // A tenant without 'cover' serves square boxes with its first fit (canonicalize does the same).
  const fit = tenant.fits.includes('cover') ? 'cover' : tenant.fits[0]!;
  const out: Variant[] = [];
  for (const size of standardSizes(tenant, opts.sizes)) {
    for (const format of standardFormats(tenant, opts.hasAlpha, opts.formats, size)) {
      out.push({
        tenant: tenant.name,
        id,
        width: size,
        height: size,
        fit,
        format,
        // PNG is lossless: canonicalize pins its quality to 100.
        quality: format === 'png' ? 100 : tenant.defaultQuality,
        version: '',
        negotiated: false,
        // The tenant's default gravity, as a URL without `g` gets (canonicalize.ts).
        ...(fit === 'cover' && tenant.gravity !== 'center' ? { gravity: tenant.gravity } : {}),
      });
    }
  }
  return out;
}
