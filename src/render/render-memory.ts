/**
 * The one rule for how much memory a render takes and which sources can never be rendered in
 * a renderer's memory budget (`limits.renderMemoryBytes`, env RENDER_MEMORY_MB). Both checks
 * use it: the scheduler's admission control before a job is queued (scheduler/pool.ts) and
 * the render thread's own check before it decodes (decode-source.ts `checkSource`), so a
 * source too large for the budget gets the same 422 whichever sees it first.
 *
 * A render's peak is its decode's (decode-peak.ts) or, later, its resize's, plus the render
 * thread's copy of the source and the encoder's and resizer's fixed costs. Pure arithmetic
 * from header facts (sniffImage, decodeTraits).
 */
import { HttpError } from '../core/errors.js';
import { type ImageInfo, orientedSize } from '../core/image/sniff.js';
import type { Variant } from '../core/variant.js';
import { type DecodeTraits, decodePeakBytes, decodesReduced, FIXED_DECODE_BYTES, maxDecodablePixels } from './decode-peak.js';
import { planGeometry } from './geometry.js';
import type { ScaleDenominator } from './jpeg-scaled.js';

const MiB = 1024 * 1024;

/**
 * What a render thread's face detector holds once loaded: the face kernel's WebAssembly memory
 * (focal/face-net.ts), 9.1 MiB from its load on: the weights and every buffer the largest input
 * the finder gives needs (320 × 960 px, the network at 256 × 768), made at once so no order of
 * inputs grows it; plus the JavaScript copies of one detection (the output grid; the upright
 * copy when saliency needs it: about 1 MiB). A Node process's RSS grew by
 * 1–11 MB over the labelled set's detections (docs/face-crops.md). Reserved from the budget
 * while a thread holds it (scheduler/pool.ts).
 */
export const DETECTOR_MEMORY_BYTES = 16 * MiB;

/** Encoder and resizer fixed costs, and the thread's copies of small buffers. */
export const RENDER_OVERHEAD_BYTES = 4 * MiB;

export type SourceFacts = Pick<ImageInfo, 'format' | 'width' | 'height'> & DecodeTraits;

/** The smallest scale the source can be decoded at: 1/8 for a JPEG, still WebP or non-interlaced PNG (decode-peak.ts `decodesReduced`), full size otherwise. */
const smallestDecode = (info: Pick<ImageInfo, 'format'> & DecodeTraits): ScaleDenominator => (decodesReduced(info) ? 8 : 1);

/** The decode stage of a render: the decode's peak (which holds the decoder's copy of the source) plus the thread's copy. */
function decodeStageBytes(info: SourceFacts, denominator: ScaleDenominator, sourceBytes: number): number {
  return decodePeakBytes(info, denominator, sourceBytes) + sourceBytes + RENDER_OVERHEAD_BYTES;
}

/**
 * What the resize of an image with alpha holds beyond the pixels (wasm/jpeg-scaled/src/
 * alpha_lanczos.rs), for a `width`×`height` input (after its box pre-shrink) to
 * `targetWidth`×`targetHeight`: one premultiplied f32 input row, a ring of `window` f32 rows of
 * the horizontal pass, one f32 accumulator row, and each axis's weights (`window` f32 and a
 * start per output pixel). `window` = 2⌈3s⌉ + 1 input pixels for a scale s = input / output
 * (at least 1), taken for the larger of the two axes' scales.
 */
export function alphaResizeBytes(width: number, height: number, targetWidth: number, targetHeight: number): number {
  const scale = Math.max(1, width / targetWidth, height / targetHeight);
  const window = 2 * Math.ceil(3 * scale) + 1;
  const floats = (width + (window + 1) * targetWidth) * 16;
  const weights = (targetWidth + targetHeight) * (window + 1) * 4;
  return Math.ceil(floats + weights);
}

/**
 * Peak bytes of rendering `variant` from the source decoded at 1/`denominator`: the decode's
 * peak, or the resize's (the decoded pixels, the region's copy, the region lanczos3 reads after
 * the box pre-shrink copied twice, the output and the encoder's working memory), whichever is larger.
 * A source whose header allows alpha (`hasAlpha` not false) also counts its resize's floats
 * (`alphaResizeBytes`).
 */
export function renderPeakBytes(
  info: SourceFacts & Pick<ImageInfo, 'orientation'> & Partial<Pick<ImageInfo, 'hasAlpha'>>,
  variant: Pick<Variant, 'width' | 'height' | 'fit'>,
  denominator: ScaleDenominator,
  sourceBytes: number,
): number {
  const d = decodesReduced(info) ? denominator : 1;
  const decoded = Math.ceil(info.width / d) * Math.ceil(info.height / d);
  const { crop, scaled } = planGeometry(orientedSize(info), variant);
  const ratio = Math.min(crop.width / scaled.width, crop.height / scaled.height) / d;
  const preShrink = Math.max(1, Math.floor(ratio / 2));
  const resizeInput = (crop.width * crop.height) / (d * d) / (preShrink * preShrink);
  // The resize (codecs.ts) copies the region into WebAssembly memory and box-shrinks it there
  // (the shrunk copy counted twice: an upper bound).
  const region = (crop.width * crop.height) / (d * d);
  const alphaFloats = info.hasAlpha === false ? 0 : alphaResizeBytes(crop.width / d / preShrink, crop.height / d / preShrink, scaled.width, scaled.height);
  const resize = decoded * 4 + region * 4 + resizeInput * 8 + scaled.width * scaled.height * 24 + alphaFloats + sourceBytes + RENDER_OVERHEAD_BYTES;
  return Math.ceil(Math.max(decodeStageBytes(info, d, sourceBytes), resize));
}

/**
 * Bytes of the animation decoder beyond the source it holds, per canvas pixel: the composited
 * canvas, the frame the decoder reads (GIF: RGBA; WebP: RGB(A) plus its own frame), and the
 * saved canvas of a GIF frame disposed "to previous" (wasm/jpeg-scaled/src/animation.rs).
 */
const ANIMATION_DECODER_PER_PIXEL = 16;
/** An encoded frame's bytes per output pixel, at most (lossy WebP at quality 100, alpha included, stays under 1.5). */
const ENCODED_PER_PIXEL = 2;

/**
 * Peak bytes of rendering an animated source as an animated WebP (animation/render-animation.ts):
 * the frame decoder (source, canvas and its working frames), one frame's resize at a time,
 * every frame's encode kept until the container is assembled (then once more in it), the
 * thread's copy of the source and the fixed costs. Every frame is the size of the canvas.
 */
export function animationPeakBytes(info: Pick<ImageInfo, 'width' | 'height' | 'orientation'>, variant: Pick<Variant, 'width' | 'height' | 'fit'>, frames: number, sourceBytes: number): number {
  const canvas = info.width * info.height;
  const { crop, scaled, canvas: out } = planGeometry(orientedSize(info), variant);
  const ratio = Math.min(crop.width / scaled.width, crop.height / scaled.height);
  const preShrink = Math.max(1, Math.floor(ratio / 2));
  const region = crop.width * crop.height;
  const resize = region * 4 + (region / (preShrink * preShrink)) * 8 + scaled.width * scaled.height * 24;
  const decoder = FIXED_DECODE_BYTES + sourceBytes + canvas * ANIMATION_DECODER_PER_PIXEL;
  const encoded = frames * out.width * out.height * ENCODED_PER_PIXEL * 2;
  return Math.ceil(decoder + resize + encoded + sourceBytes + RENDER_OVERHEAD_BYTES);
}

/** A render from a kept master: the crop it shrinks (at most the master) and the rest. */
export function masterRenderBytes(masterBytes: number): number {
  return masterBytes + RENDER_OVERHEAD_BYTES;
}

const mb = (n: number): number => Math.ceil(n / MiB);

function formatName(info: SourceFacts): string {
  if (info.format === 'png') return 'PNG';
  if (info.format === 'webp') return info.lossless === false ? 'lossy WebP' : 'lossless WebP';
  if (info.format === 'avif') return 'AVIF';
  if (info.format === 'gif') return 'GIF';
  return info.progressive === false ? 'baseline JPEG' : 'progressive JPEG';
}

/**
 * The 422 for a source that no render can decode within `budget` bytes, or undefined when its
 * smallest decode fits. Says the format, the source's pixels and the most this budget allows:
 * what an uploader needs to make a file that will be accepted. A JPEG or still WebP decodes
 * at 1/8 at the least, so only what it keeps at full size meanwhile (a progressive JPEG's
 * coefficients, a lossless WebP's ARGB plane, an alpha plane) can get it refused here; an
 * interlaced PNG, GIF, AVIF and animated WebP decode at full size.
 */
export function sourceTooLargeForMemory(info: SourceFacts, budget: number, sourceBytes: number): HttpError | undefined {
  if (decodeStageBytes(info, smallestDecode(info), sourceBytes) <= budget) return undefined;
  const name = formatName(info);
  const why = !decodesReduced(info)
    ? 'sources decode at full size'
    : info.format === 'webp'
      ? info.lossless === false
        ? 'sources keep a full-size alpha plane while decoding'
        : 'sources keep a full-size ARGB plane while decoding'
      : info.format === 'png' || info.progressive === false
        ? 'sources decode at 1/8 scale at the least'
        : 'sources keep the coefficients of the full image while decoding';
  const max = maxRenderablePixels(info, budget, sourceBytes);
  return new HttpError(
    422,
    'SOURCE_TOO_LARGE',
    `source image is ${info.width}×${info.height} (${info.width * info.height} pixels); ${name} ${why} and may have at most ${max} pixels in this renderer's ${mb(budget)} MB memory budget`,
  );
}

/**
 * The most pixels a source of this kind and file size can have for its smallest decode to fit
 * `budget` (for a JPEG, whose 1/8 output rounds up to whole pixels, to within a few).
 */
export function maxRenderablePixels(info: Pick<ImageInfo, 'format'> & DecodeTraits, budget: number, sourceBytes: number): number {
  return maxDecodablePixels(info, budget - sourceBytes - RENDER_OVERHEAD_BYTES, sourceBytes, smallestDecode(info));
}

/**
 * The 422 for a render that this variant makes too large for the budget although the source
 * itself fits (a large output, or a JPEG at a size that needs a fine decode): a smaller size
 * of the same source may render.
 */
export function renderTooLargeForMemory(info: SourceFacts, variant: Pick<Variant, 'width' | 'height'>, estimate: number, budget: number): HttpError {
  const size = `${variant.width || 'auto'}×${variant.height || 'auto'}`;
  return new HttpError(
    422,
    'SOURCE_TOO_LARGE',
    `source image is ${info.width}×${info.height} (${info.width * info.height} pixels); rendering it at ${size} needs about ${mb(estimate)} MB of memory, more than this renderer's ${mb(budget)} MB budget; a smaller size may fit`,
  );
}
