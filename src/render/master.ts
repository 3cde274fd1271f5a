/**
 * Masters: a source decoded once and kept, so the next variants of the same image skip the
 * decode (scheduler/masters.ts keeps them). A master is whatever the first render decoded
 * anyway (jsquash-renderer.ts `renderKeepingMaster`): a JPEG at the reduced scale its variant
 * needed (`factor` = that denominator), or a large source box-shrunk by an integer factor (what
 * the pre-shrink would do anyway; `masterFactor` gives the "full" master's factor, serving
 * cover boxes up to 512 px). A shrunk master only serves a variant it can give at least 2× the
 * target pixels in both axes, judged by its actual pixels: the same margin the direct path's
 * reduced decode and pre-shrink keep before lanczos3, so quality matches rendering from the
 * original. A factor-1 master is the decoded source itself: every variant, identical output.
 */
import { wantsFocal } from '../core/focal-point.js';
import type { ImageInfo } from '../core/image/sniff.js';
import type { Variant } from '../core/variant.js';
import { NET_SHORT_SIDE } from './focal/face-detector.js';
import { planGeometry, transposeSize } from './geometry.js';
import type { ScaleDenominator } from './jpeg-scaled.js';
import { cropAndShrink } from './pre-shrink.js';

export interface Master {
  /** The stored (unrotated) pixels, shrunk by `factor`. */
  image: ImageData;
  factor: number;
  /** The source's header facts (orientation, alpha) the fit stage needs. */
  info: Pick<ImageInfo, 'format' | 'width' | 'height' | 'hasAlpha' | 'orientation'>;
}

export interface MasterPolicy {
  /** Sources below this many pixels are cheap to decode again: no master (default 4 MP). */
  minPixels: number;
  /** The master's short side is at least this (default 1024: serves boxes up to 512 px). */
  minShortSide: number;
}

export const MASTER_DEFAULTS: MasterPolicy = { minPixels: 4_000_000, minShortSide: 1024 };

/**
 * The shrink factor for a source's master, or 1 when it should have none. For a JPEG, WebP or
 * PNG it is a power of two up to 8, a scale the decoder itself can produce (decode-peak.ts
 * `decodesReduced`): the master is decoded at that size, never at full size.
 */
export function masterFactor(info: Pick<ImageInfo, 'format' | 'width' | 'height'>, policy: MasterPolicy = MASTER_DEFAULTS): number {
  if (info.width * info.height < policy.minPixels) return 1;
  const k = Math.floor(Math.min(info.width, info.height) / policy.minShortSide);
  if (k < 2) return 1;
  return info.format === 'jpeg' || info.format === 'webp' || info.format === 'png' ? ([8, 4, 2].find((d) => d <= k) as number) : k;
}

export function makeMaster(image: ImageData, info: Master['info'], factor: number, hasAlpha: boolean): Master {
  if (factor <= 1) return { image, factor: 1, info };
  const full = { x: 0, y: 0, width: image.width, height: image.height };
  return { image: cropAndShrink(image, full, factor, hasAlpha), factor, info };
}

/**
 * Whether the master can render this variant as well as the original would: a factor-1 master
 * (the decoded source) always; a shrunk one only for cover with
 * both sides fixed: its output size is the box whatever the source size, while contain and
 * inside derive it from the source's aspect ratio, which the master keeps only to a pixel.
 * A face/auto crop that must find the focal point also needs a master at least as fine as a
 * full one (`needsDetectionScale`).
 */
export function masterServes(master: Master, variant: Pick<Variant, 'width' | 'height' | 'fit' | 'gravity' | 'focal'>): boolean {
  if (master.factor === 1) return true; // the decoded source itself
  if (variant.fit !== 'cover' || variant.width <= 0 || variant.height <= 0) return false;
  if (needsDetectionScale(variant) && master.factor > detectionFactor(master.info)) return false;
  const stored = { width: master.image.width, height: master.image.height };
  const shown = master.info.orientation >= 5 ? transposeSize(stored) : stored;
  const { crop } = planGeometry(shown, { width: variant.width, height: variant.height, fit: 'cover' });
  return crop.width >= 2 * variant.width && crop.height >= 2 * variant.height;
}

/**
 * A face/auto cover crop sent without the original's focal record: its render finds the record
 * (focal/find-focal.ts), which is stored and used for every size, so it decodes the source no
 * coarser than `detectionFactor`. A small avatar's own reduced decode (1/8 of a 1024 × 512
 * photo is 128 × 64) would lose the faces. Once per original.
 */
export function needsDetectionScale(variant: Pick<Variant, 'fit' | 'gravity' | 'focal'>): boolean {
  return wantsFocal(variant) && !variant.focal;
}

/**
 * The coarsest decode that still gives the face detector all the pixels it looks at: the
 * largest JPEG DCT scale (1/2, 1/4, 1/8) that leaves the short side at least the network's
 * (NET_SHORT_SIDE, 256 px), else the full size. A 1024 × 512 photo is decoded at 1/2 for it,
 * no more work than the detector's own downscale would have undone.
 */
export function detectionFactor(info: Pick<ImageInfo, 'width' | 'height'>): ScaleDenominator {
  const short = Math.min(info.width, info.height);
  return ([8, 4, 2] as const).find((d) => Math.floor(short / d) >= NET_SHORT_SIDE) ?? 1;
}
