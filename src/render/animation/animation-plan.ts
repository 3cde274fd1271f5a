/**
 * Whether a render is an animation, and whether it may run: an animated GIF or WebP asked for
 * as WebP becomes an animated WebP (render-animation.ts); as JPEG, PNG or AVIF it stays its
 * first frame. Decided from the header (frame count, canvas size) before any decoder runs, by
 * both the scheduler (scheduler/pool.ts) and the render thread, with the same 422s.
 */
import { HttpError } from '../../core/errors.js';
import { type ImageInfo, orientedSize } from '../../core/image/sniff.js';
import type { Variant } from '../../core/variant.js';
import { planGeometry } from '../geometry.js';
import { animationPeakBytes, renderTooLargeForMemory } from '../render-memory.js';
import { frameCount } from '../../core/image/animation-header.js';

/**
 * What one animated render may cost. Each frame is decoded and composited at the source's
 * canvas size, resized, and encoded at the output's, so the work grows with frames × pixels on
 * both sides. Measured on a 2-core machine under heavy load (load average 13): 40 frames of
 * 500×500 to 256×256 took 2.3 s (decode 0.5 s, resize 0.3 s, encode 1.5 s); at these bounds
 * the largest animation stays near the default 5 s deadline under that load, and well inside
 * it on an idle machine.
 */
export const ANIMATION_LIMITS = {
  /** Frames. */
  maxFrames: 300,
  /** Frames × canvas pixels (e.g. 100 frames of 500×500). */
  maxSourcePixels: 25_000_000,
  /** Frames × output pixels (e.g. 60 frames of 256×256, 240 of 128×128). */
  maxOutputPixels: 4_000_000,
} as const;

export const ANIMATION_TOO_LARGE = 'ANIMATION_TOO_LARGE';

export interface AnimationPlan {
  frames: number;
  /** Estimated peak bytes of the render (render-memory.ts `animationPeakBytes`). */
  bytes: number;
}

/** Only WebP output animates. */
export const animates = (variant: Pick<Variant, 'format'>, info: Pick<ImageInfo, 'format'>): boolean => variant.format === 'webp' && (info.format === 'gif' || info.format === 'webp');

/**
 * The plan for rendering `source` as `variant` when that is an animation (WebP output of a
 * GIF or WebP with more than one frame), undefined when it is a still render. Throws 422
 * ANIMATION_TOO_LARGE past ANIMATION_LIMITS, and 422 SOURCE_TOO_LARGE when the estimate
 * exceeds the memory `budget`.
 */
export function planAnimation(source: Uint8Array, info: ImageInfo, variant: Pick<Variant, 'format' | 'width' | 'height' | 'fit'>, budget: number): AnimationPlan | undefined {
  if (!animates(variant, info)) return undefined;
  const frames = frameCount(source, info);
  if (frames < 2) return undefined;
  const { canvas } = planGeometry(orientedSize(info), variant);
  const sourcePixels = frames * info.width * info.height;
  const outputPixels = frames * canvas.width * canvas.height;
  const L = ANIMATION_LIMITS;
  if (frames > L.maxFrames || sourcePixels > L.maxSourcePixels || outputPixels > L.maxOutputPixels) {
    throw new HttpError(
      422,
      ANIMATION_TOO_LARGE,
      `the source animation has ${frames} frames of ${info.width}×${info.height} (${sourcePixels} pixels in all), ${outputPixels} pixels in all at ${canvas.width}×${canvas.height}; ` +
        `an animated WebP may have at most ${L.maxFrames} frames, ${L.maxSourcePixels} source pixels and ${L.maxOutputPixels} output pixels in all (frames × pixels per frame); ` +
        'a smaller size may fit, and fmt=jpeg, png or avif give the first frame',
    );
  }
  const bytes = animationPeakBytes(info, variant, frames, source.byteLength);
  if (bytes > budget) throw renderTooLargeForMemory(info, variant, bytes, budget);
  return { frames, bytes };
}
