/** A canonical variant: the one thing a request resolves to, and the cache key. */
import type { FocalRecord, Gravity } from './focal-point.js';

export type Format = 'webp' | 'jpeg' | 'png' | 'avif';
export type Fit = 'cover' | 'contain' | 'inside';

export const FORMATS: readonly Format[] = ['webp', 'jpeg', 'png', 'avif'];
export const FITS: readonly Fit[] = ['cover', 'contain', 'inside'];

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

/**
 * The per-image part of the canonical form, e.g. `256x256-cover-q75.webp`, or with a gravity
 * other than centre `256x256-cover-gface-q75.webp` (centre stays unnamed, so names from before
 * gravity existed are unchanged). It is also the stored variant's file name, so it never
 * contains the version.
 */
export function variantName(v: Pick<Variant, 'width' | 'height' | 'fit' | 'quality' | 'format' | 'gravity'>): string {
  const g = v.gravity && v.gravity !== 'center' ? `-g${v.gravity}` : '';
  return `${v.width}x${v.height}-${v.fit}${g}-q${v.quality}.${v.format}`;
}

/** Parses a variant name back: every parser of stored or requested names uses this pattern. */
export const VARIANT_NAME_RE = /^(\d{1,5})x(\d{1,5})-(cover|contain|inside)(?:-g(face|auto))?-q(\d{1,3})\.(webp|jpeg|png|avif)$/;

/** The full canonical form and cache key, e.g. `demo/hopper/256x256-cover-q75.webp` (+ `@v3`). */
export function canonicalKey(v: Variant): string {
  const base = `${v.tenant}/${v.id}/${variantName(v)}`;
  return v.version ? `${base}@v${v.version}` : base;
}
