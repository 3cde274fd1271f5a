/**
 * How many bytes a render holds at its peak, from header facts alone (sniffImage), so the
 * scheduler can admit it before anything is decoded. Deliberately simple and on the high
 * side; to be replaced by the decoders' own estimate once it lands (render/decode-source).
 */
import type { ImageInfo } from '../../core/image/sniff.js';
import type { ScaleDenominator } from '../jpeg-scaled.js';

const MiB = 1024 * 1024;

/** Encoder and resizer working memory, and the thread's copies of small buffers. */
const RENDER_OVERHEAD_BYTES = 4 * MiB;

/**
 * Peak bytes of decoding `info` at 1/`denominator` (JPEG only; other formats decode at full size).
 *
 * Full-size decodes (mozjpeg, libwebp, PNG): the RGBA output in WebAssembly memory (4 B/px),
 * the decoder's own buffers (a progressive JPEG's coefficients, PNG's inflated rows: up to
 * ~3 B/px) and the JavaScript copy of the pixels (4 B/px): ~11 B/px, ~176 MB for 16 MP, which
 * is what a 16 MP JPEG measured. Reduced JPEG decodes (jpeg-scaled.ts): the same per output
 * pixel, plus, for a progressive file, every DCT coefficient of the full image (2 bytes × 1.5
 * samples per pixel at 4:2:0), which the decoder keeps whatever the scale.
 */
export function estimateDecodeBytes(
  info: Pick<ImageInfo, 'format' | 'width' | 'height'>,
  denominator: ScaleDenominator,
  opts: { progressive?: boolean } = {},
): number {
  const d = info.format === 'jpeg' ? denominator : 1;
  const out = Math.ceil(info.width / d) * Math.ceil(info.height / d);
  const coefficients = d > 1 && opts.progressive ? info.width * info.height * 3 : 0;
  return out * 11 + coefficients;
}

/** A whole render from the source: decode, the source's copies, the resize and encode. */
export function estimateRenderBytes(decodeBytes: number, sourceBytes: number): number {
  return decodeBytes + 2 * sourceBytes + RENDER_OVERHEAD_BYTES;
}

/** A render from a kept master: the crop it shrinks (at most the master) and the rest. */
export function estimateMasterRenderBytes(masterBytes: number): number {
  return masterBytes + RENDER_OVERHEAD_BYTES;
}
