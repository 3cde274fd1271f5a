/** A canonical variant: the one thing a request resolves to, and the cache key. */
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
}

/**
 * The per-image part of the canonical form, e.g. `256x256-cover-q75.webp`.
 * It is also the stored variant's file name, so it never contains the version.
 */
export function variantName(v: Pick<Variant, 'width' | 'height' | 'fit' | 'quality' | 'format'>): string {
  return `${v.width}x${v.height}-${v.fit}-q${v.quality}.${v.format}`;
}

/** The full canonical form and cache key, e.g. `demo/hopper/256x256-cover-q75.webp` (+ `@v3`). */
export function canonicalKey(v: Variant): string {
  const base = `${v.tenant}/${v.id}/${variantName(v)}`;
  return v.version ? `${base}@v${v.version}` : base;
}
