/**
 * How much memory decoding a source takes at its peak, from its header alone: what admission
 * control weighs against a memory budget before starting a decode, and what refuses PNG and
 * WebP sources too large to decode within one (decode-source.ts). Pure arithmetic; the
 * per-pixel figures come from the decoders' buffers and were checked against peak RSS
 * (README, "Decode memory"): measured 7.3–8.6 bytes a pixel for PNG (8-bit and 16-bit),
 * 6.8–7.2 for lossy WebP, 10.7 for lossless WebP, 3 plus the output for a progressive
 * 4:2:0 JPEG at 1/8.
 */
import type { ImageInfo } from '../core/image/sniff.js';
import type { ScaleDenominator } from './jpeg-scaled.js';

/**
 * Default bytes one decode may take: with the ~120–140 MB a Node render process holds
 * before it decodes anything (codecs compiled and warmed), the whole process stays under
 * ~384 MB. Makes the PNG limit ~31 MP and the WebP limit ~21 MP (maxDecodablePixels).
 */
export const DEFAULT_DECODE_BUDGET_BYTES = 256 * 1024 * 1024;

/** RGBA output, 4 bytes a pixel: once in WebAssembly memory, once more as the JavaScript copy. */
const OUTPUT_AND_COPY = 8;

/**
 * Bytes per source pixel beyond the output, by decoder:
 * - PNG (png_rgba.rs): rows stream into the output, whatever the bit depth or interlacing: nothing.
 * - WebP (libwebp): a lossless image keeps a 4-byte ARGB plane besides the output (lossy
 *   decodes through a few rows of cache); the header does not say which, so assume lossless.
 * - JPEG at full size (mozjpeg): a progressive file keeps every DCT coefficient, 2 bytes a
 *   sample, up to 3 samples a pixel (4:4:4): 6.
 * - JPEG reduced (jpeg-decoder): the same coefficients of the full-size image for a
 *   progressive file, while only the output shrinks.
 */
const INTERNALS = { png: 0, webp: 4, jpeg: 6 } as const;

/** Fixed costs: code, stacks, zlib window and row buffers, decoder state, heap churn. */
const FIXED = 16 * 1024 * 1024;

/**
 * Peak bytes of decoding `info` at 1/`denominator` (JPEG only; other formats decode at full
 * size), `fileBytes` being the source's size (the decoder holds a copy). An upper bound:
 * a baseline JPEG or a lossy WebP needs less.
 */
export function decodePeakBytes(info: Pick<ImageInfo, 'format' | 'width' | 'height'>, denominator: ScaleDenominator = 1, fileBytes = 0): number {
  const pixels = info.width * info.height;
  const d = info.format === 'jpeg' ? denominator : 1;
  const outPixels = Math.ceil(info.width / d) * Math.ceil(info.height / d);
  return FIXED + fileBytes + outPixels * OUTPUT_AND_COPY + pixels * INTERNALS[info.format];
}

/** The most pixels a PNG or WebP source can have to decode within `budget` bytes. */
export function maxDecodablePixels(format: 'png' | 'webp', budget: number = DEFAULT_DECODE_BUDGET_BYTES, fileBytes = 0): number {
  return Math.max(0, Math.floor((budget - FIXED - fileBytes) / (OUTPUT_AND_COPY + INTERNALS[format])));
}
