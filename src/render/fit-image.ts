/**
 * The resize stage: crop (cover, around the focal point or the centre), pre-shrink, lanczos3 to the exact target, apply
 * EXIF orientation, letterbox (contain). Geometry is planned in the displayed orientation but
 * executed on the stored pixels, so rotating touches only the small result.
 */
import { usesAlpha } from './alpha.js';
import type { Codecs } from './codecs.js';
import { type FocalRecord, focalFor } from '../core/focal-point.js';
import type { Gravity } from '../core/variant.js';
import { type Box, focusedRect, planGeometry, transposeSize } from './geometry.js';
import { letterbox } from './letterbox.js';
import { applyOrientation, storedPoint } from './orientation.js';
import { shrinkFactor } from './pre-shrink.js';

export interface FitOptions {
  /** Box-filter pre-shrink before lanczos3 (on by default; off only to measure its effect). */
  preShrink: boolean;
}

export interface FittedImage {
  image: ImageData;
  /** Whether any output pixel may be transparent (alpha in the source, or a letterbox). */
  hasAlpha: boolean;
}

export async function fitImage(
  codecs: Codecs,
  image: ImageData,
  source: { hasAlpha: boolean; orientation: number },
  box: Box & { gravity?: Gravity; focal?: FocalRecord },
  opts: FitOptions,
): Promise<FittedImage> {
  const transposed = source.orientation >= 5;
  const stored = { width: image.width, height: image.height };
  const focal = box.fit === 'cover' ? focalFor(box.focal, box.gravity) : undefined;
  const plan = planGeometry(transposed ? transposeSize(stored) : stored, box, focal);
  // The same crop on the stored pixels: its size with axes swapped when transposed, placed
  // around the focal point mapped through the orientation (placement is symmetric, so this is
  // the displayed crop mapped back).
  const crop = focusedRect(stored, transposed ? plan.crop.height : plan.crop.width, transposed ? plan.crop.width : plan.crop.height, focal && storedPoint(focal, source.orientation));
  const target = transposed ? transposeSize(plan.scaled) : plan.scaled;
  const alpha = source.hasAlpha && usesAlpha(image);

  const factor = opts.preShrink ? shrinkFactor(crop, target) : 1;
  let pixels = await codecs.resize(image, crop, factor, target.width, target.height, alpha);
  pixels = applyOrientation(pixels, source.orientation);
  const { canvas, offset, scaled } = plan;
  pixels = letterbox(pixels, canvas.width, canvas.height, offset.x, offset.y);
  const letterboxed = canvas.width !== scaled.width || canvas.height !== scaled.height;
  return { image: pixels, hasAlpha: alpha || letterboxed };
}
