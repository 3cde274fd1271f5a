/**
 * How many bytes a render holds at its peak, from header facts alone (sniffImage), so the
 * scheduler can admit it before anything is decoded. Calibrated on 8–16 MP JPEGs and PNGs
 * (RSS growth of one render on one thread) and on the high side; to be replaced by the
 * decoders' own estimate once it lands.
 */
import { type ImageInfo, orientedSize } from '../../core/image/sniff.js';
import type { Variant } from '../../core/variant.js';
import { planGeometry } from '../geometry.js';
import type { ScaleDenominator } from '../jpeg-scaled.js';

const MiB = 1024 * 1024;

/** Encoder and resizer fixed costs, and the thread's copies of small buffers. */
const RENDER_OVERHEAD_BYTES = 4 * MiB;

/**
 * Peak bytes of decoding `info` at 1/`denominator` (a JPEG; other formats decode at full size).
 * Per decoded pixel ~12 bytes: the RGBA output in WebAssembly memory, the decoder's own
 * buffers, and the JavaScript copy of the pixels (16 MP PNG: ~200 MB measured). A reduced
 * decode of a progressive JPEG (jpeg-scaled.ts) also keeps every DCT coefficient of the full
 * image whatever the scale: ~6 bytes per source pixel measured (16 MP at 1/4: +65–110 MB).
 */
export function estimateDecodeBytes(
  info: Pick<ImageInfo, 'format' | 'width' | 'height'>,
  denominator: ScaleDenominator,
  opts: { progressive?: boolean } = {},
): number {
  const d = info.format === 'jpeg' ? denominator : 1;
  const decoded = Math.ceil(info.width / d) * Math.ceil(info.height / d);
  const coefficients = d > 1 && opts.progressive ? info.width * info.height * 6 : 0;
  return decoded * 12 + coefficients;
}

/**
 * A whole render from the source: the decode's peak, or later the resize's (the decoded
 * pixels, the region lanczos3 reads after the box pre-shrink copied twice, the output and
 * the encoder's working memory), whichever is larger; plus the source's two copies (into the
 * thread, into the decoder).
 */
export function estimateRenderBytes(
  info: Pick<ImageInfo, 'format' | 'width' | 'height' | 'orientation'>,
  variant: Pick<Variant, 'width' | 'height' | 'fit'>,
  denominator: ScaleDenominator,
  opts: { progressive?: boolean; sourceBytes: number },
): number {
  const d = info.format === 'jpeg' ? denominator : 1;
  const decoded = Math.ceil(info.width / d) * Math.ceil(info.height / d);
  const { crop, scaled } = planGeometry(orientedSize(info), variant);
  const target = scaled.width * scaled.height;
  const ratio = Math.min(crop.width / scaled.width, crop.height / scaled.height) / d;
  const preShrink = Math.max(1, Math.floor(ratio / 2));
  const resizeInput = (crop.width * crop.height) / (d * d) / (preShrink * preShrink);
  const resize = decoded * 4 + resizeInput * 8 + target * 24;
  return Math.ceil(Math.max(estimateDecodeBytes(info, denominator, opts), resize) + 2 * opts.sourceBytes + RENDER_OVERHEAD_BYTES);
}

/** A render from a kept master: the crop it shrinks (at most the master) and the rest. */
export function estimateMasterRenderBytes(masterBytes: number): number {
  return masterBytes + RENDER_OVERHEAD_BYTES;
}
