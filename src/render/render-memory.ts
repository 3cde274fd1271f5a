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
import { type DecodeTraits, decodePeakBytes, maxDecodablePixels } from './decode-peak.js';
import { planGeometry } from './geometry.js';
import type { ScaleDenominator } from './jpeg-scaled.js';

const MiB = 1024 * 1024;

/**
 * What a render thread's face detector holds once loaded (TensorFlow.js, its WASM memory after
 * detections; it never shrinks): 78–80 MB RSS to load, 50–100 MB more over the labelled set's
 * detections, in a Node process (docs/face-crops.md). Reserved from the budget while a thread
 * holds it (scheduler/pool.ts).
 */
export const DETECTOR_MEMORY_BYTES = 160 * MiB;

/** Encoder and resizer fixed costs, and the thread's copies of small buffers. */
export const RENDER_OVERHEAD_BYTES = 4 * MiB;

export type SourceFacts = Pick<ImageInfo, 'format' | 'width' | 'height'> & DecodeTraits;

/** The smallest scale the source can be decoded at: 1/8 for a JPEG (jpeg-scaled.ts), full size otherwise. */
const smallestDecode = (info: Pick<ImageInfo, 'format'>): ScaleDenominator => (info.format === 'jpeg' ? 8 : 1);

/** The decode stage of a render: the decode's peak (which holds the decoder's copy of the source) plus the thread's copy. */
function decodeStageBytes(info: SourceFacts, denominator: ScaleDenominator, sourceBytes: number): number {
  return decodePeakBytes(info, denominator, sourceBytes) + sourceBytes + RENDER_OVERHEAD_BYTES;
}

/**
 * Peak bytes of rendering `variant` from the source decoded at 1/`denominator`: the decode's
 * peak, or the resize's (the decoded pixels, the region's copy, the region lanczos3 reads after
 * the box pre-shrink copied twice, the output and the encoder's working memory), whichever is larger.
 */
export function renderPeakBytes(info: SourceFacts & Pick<ImageInfo, 'orientation'>, variant: Pick<Variant, 'width' | 'height' | 'fit'>, denominator: ScaleDenominator, sourceBytes: number): number {
  const d = info.format === 'jpeg' ? denominator : 1;
  const decoded = Math.ceil(info.width / d) * Math.ceil(info.height / d);
  const { crop, scaled } = planGeometry(orientedSize(info), variant);
  const ratio = Math.min(crop.width / scaled.width, crop.height / scaled.height) / d;
  const preShrink = Math.max(1, Math.floor(ratio / 2));
  const resizeInput = (crop.width * crop.height) / (d * d) / (preShrink * preShrink);
  // The resize (codecs.ts) copies the region into WebAssembly memory and box-shrinks it there
  // (opaque), or box-shrinks in JavaScript and the resizer copies that (alpha): both counted,
  // so the sum bounds either path.
  const region = (crop.width * crop.height) / (d * d);
  const resize = decoded * 4 + region * 4 + resizeInput * 8 + scaled.width * scaled.height * 24 + sourceBytes + RENDER_OVERHEAD_BYTES;
  return Math.ceil(Math.max(decodeStageBytes(info, d, sourceBytes), resize));
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
 * what an uploader needs to make a file that will be accepted. A JPEG decodes at 1/8 at the
 * least, so only a progressive one (which keeps every coefficient of the full image) can be
 * refused here; PNG and WebP decode only at full size.
 */
export function sourceTooLargeForMemory(info: SourceFacts, budget: number, sourceBytes: number): HttpError | undefined {
  if (decodeStageBytes(info, smallestDecode(info), sourceBytes) <= budget) return undefined;
  const name = formatName(info);
  const why =
    info.format !== 'jpeg'
      ? 'sources decode at full size'
      : info.progressive === false
        ? 'sources decode at 1/8 scale at the least'
        : 'sources keep every coefficient of the full image while decoding';
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
