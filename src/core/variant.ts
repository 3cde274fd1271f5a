/** A canonical variant: the one thing a request resolves to, and the cache key. */
import type { FocalRecord } from './focal-point.js';

export type Format = 'webp' | 'jpeg' | 'png' | 'avif';
export type Fit = 'cover' | 'contain' | 'inside';
/** Where a cover crop centres: `center` the middle; `face` faces (else the middle); `auto` faces, else salient detail, else the middle. */
export type Gravity = 'center' | 'face' | 'auto';

export const FORMATS: readonly Format[] = ['webp', 'jpeg', 'png', 'avif'];
export const FITS: readonly Fit[] = ['cover', 'contain', 'inside'];
export const GRAVITIES: readonly Gravity[] = ['center', 'face', 'auto'];

/**
 * The largest side a canonical variant can have: tenant breakpoints (and the default size)
 * are at most this, and the canonicalizer snaps every requested side (dpr included) up to a
 * breakpoint, so no request can name a larger output whatever `maxRequestDimension` allows.
 */
export const MAX_VARIANT_SIDE = 4096;

export const CONTENT_TYPES: Record<Format, string> = {
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
  avif: 'image/avif',
};

export interface Variant {
  tenant: string;
  id: string;
  /** Output box in pixels (dpr already folded in). 0 means "follow the source aspect ratio". */
  width: number;
  height: number;
  fit: Fit;
  format: Format;
  quality: number;
  /** Client-supplied version (cache buster that is part of the key), or '' when absent. */
  version: string;
  /** True when `format` was negotiated from Accept (the response then varies on Accept). */
  negotiated: boolean;
  /** Where a cover crop centres (focal-point.ts); absent means `center`, and only cover has another. */
  gravity?: Gravity;
  /**
   * Not part of the key: the original's stored focal record when the loader has one, so the
   * renderer need not detect it again. Absent for a gravity that needs one: the renderer detects.
   */
  focal?: FocalRecord;
}

/** What a variant name carries: everything but the image and the version. */
export type VariantNameParts = Pick<Variant, 'width' | 'height' | 'fit' | 'quality' | 'format' | 'gravity'>;

/**
 * The per-image part of the canonical form, e.g. `256x256-cover-q75.webp`, or with a gravity
 * other than centre `256x256-cover-gface-q75.webp` (centre stays unnamed, so names from before
 * gravity existed are unchanged). It is also the stored variant's file name, so it never
 * contains the version. `parseVariantName` reads it back.
 */
export function variantName(v: VariantNameParts): string {
  const g = v.gravity && v.gravity !== 'center' ? `-g${v.gravity}` : '';
  return `${v.width}x${v.height}-${v.fit}${g}-q${v.quality}.${v.format}`;
}

// Sides and quality without leading zeros, so each variant has exactly one name.
const SIDE = `(0|[1-9]\\d{0,${String(MAX_VARIANT_SIDE).length - 1}})`;
const NAMED_GRAVITIES = GRAVITIES.filter((g) => g !== 'center');
const NAME_RE = new RegExp(`^${SIDE}x${SIDE}-(${FITS.join('|')})(?:-g(${NAMED_GRAVITIES.join('|')}))?-q([1-9]\\d{0,2})\\.(${FORMATS.join('|')})$`);

/**
 * The inverse of `variantName`, for names found in a render path or listed from a store:
 * undefined for anything `variantName` cannot produce from a canonical variant (sides 0 to
 * MAX_VARIANT_SIDE, not both 0; quality 1 to 100; a gravity only on cover). Whether the
 * variant suits a tenant (breakpoints, formats, qualities) is the caller's question.
 */
export function parseVariantName(name: string): VariantNameParts | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const width = Number(m[1]);
  const height = Number(m[2]);
  const fit = m[3] as Fit;
  const gravity = m[4] as Gravity | undefined;
  const quality = Number(m[5]);
  const format = m[6] as Format;
  if (width > MAX_VARIANT_SIDE || height > MAX_VARIANT_SIDE || (width === 0 && height === 0)) return undefined;
  if (quality > 100 || (gravity && fit !== 'cover')) return undefined;
  return { width, height, fit, quality, format, ...(gravity ? { gravity } : {}) };
}

/** The full canonical form and cache key, e.g. `demo/hopper/256x256-cover-q75.webp` (+ `@v3`). */
export function canonicalKey(v: Variant): string {
  const base = `${v.tenant}/${v.id}/${variantName(v)}`;
  return v.version ? `${base}@v${v.version}` : base;
}
