/**
 * How much memory decoding a source takes at its peak, from its header alone: the decode stage
 * of a render's estimate (render-memory.ts), which admission control weighs against the memory
 * budget before starting a render and which refuses sources too large to decode within it. Pure arithmetic; the
 * per-pixel figures come from the decoders' buffers and were checked against peak RSS
 * (README, "Decode memory"): measured 7.3–8.6 bytes a pixel for PNG (8-bit and 16-bit),
 * 3 plus the output for a progressive 4:2:0 JPEG at 1/8 before it kept only the coefficients its
 * scale reads (0.23 now, the estimate: WebAssembly memory measured within it on the bench's progressive JPEGs at 1/2–1/8);
 * a still WebP's libwebp memory beyond
 * its output 0.05 (lossy), 2.2 (lossy with alpha), 4.04 (lossless).
 */
import type { ImageInfo } from '../core/image/sniff.js';
import { isAnimatedWebp } from '../core/image/animation-header.js';
import { jpegFrame } from './jpeg-dc-scans.js';
import type { ScaleDenominator } from './jpeg-scaled.js';

/** RGBA output, 4 bytes a pixel: once in WebAssembly memory, once more as the JavaScript copy. */
const OUTPUT_AND_COPY = 8;

/**
 * A reduced JPEG decode (jpeg-decoder) holds more per output pixel than its RGBA: the
 * component planes and the RGB image it returns, then the RGBA widened from it. Measured on
 * 4–50 MP JPEGs at 1/2–1/8, WebAssembly memory beyond the input and the coefficients:
 * 4.6–6.2 bytes an output pixel to decode, +4 to widen, against the 4 `OUTPUT_AND_COPY` counts.
 */
const JPEG_REDUCED_EXTRA = 6;

function outputBytesPerPixel(info: Pick<ImageInfo, 'format'>, d: ScaleDenominator): number {
  return OUTPUT_AND_COPY + (info.format === 'jpeg' && d > 1 ? JPEG_REDUCED_EXTRA : 0);
}

/** Fixed costs: code, stacks, zlib window and row buffers, decoder state, heap churn. */
export const FIXED_DECODE_BYTES = 16 * 1024 * 1024;

/**
 * What besides format and size decides a decode's memory, read from the bytes
 * (`decodeTraits`). Each is optional: absent, the estimate assumes the costlier case.
 */
export interface DecodeTraits {
  /** JPEG: a progressive file keeps every DCT coefficient until its last scan. */
  progressive?: boolean;
  /** JPEG: samples stored per pixel (1 grey, 1.5 for 4:2:0, 3 for 4:4:4, 4 for CMYK). */
  samplesPerPixel?: number;
  /** WebP: lossless (VP8L) keeps a whole ARGB plane besides the output. */
  lossless?: boolean;
  /** WebP: a lossy image's alpha plane, one byte a pixel. */
  alpha?: boolean;
  /** WebP: animated (the VP8X flag): decoded at full size, frame by frame. */
  animated?: boolean;
  /** PNG: Adam7-interlaced (its passes scatter pixels over the image): decoded at full size. */
  interlaced?: boolean;
}

/**
 * Whether the renderer can decode this source at 1/2, 1/4 or 1/8 scale without the full-size
 * image ever existing: a JPEG (its IDCT at a reduced size, jpeg-scaled.ts), a still WebP
 * (libwebp's rescaler shrinking each row as it is decoded, codecs.ts) and a non-interlaced PNG
 * (d×d blocks averaged as rows arrive, png_rgba.rs). Other formats, and a WebP or PNG whose
 * traits are unknown, decode at full size.
 */
export function decodesReduced(info: Pick<ImageInfo, 'format'> & DecodeTraits): boolean {
  return info.format === 'jpeg' || (info.format === 'webp' && info.animated === false) || (info.format === 'png' && info.interlaced === false);
}

/** Reads the DecodeTraits of a sniffed source; cheap (a walk of headers and chunk sizes). */
export function decodeTraits(bytes: Uint8Array, info: Pick<ImageInfo, 'format'>): DecodeTraits {
  if (info.format === 'jpeg') return jpegFrame(bytes) ?? {};
  // IHDR is the first chunk (sniffImage checked): its interlace method is the 13th data byte.
  if (info.format === 'png') return bytes.length > 28 ? { interlaced: bytes[28] !== 0 } : {};
  if (info.format === 'webp') {
    if (isAnimatedWebp(bytes)) return { animated: true };
    const chunks = webpChunks(bytes);
    if (chunks.has('VP8L')) return { lossless: true, animated: false };
    if (chunks.has('VP8 ')) return { lossless: false, alpha: chunks.has('ALPH'), animated: false };
  }
  return {};
}

function webpChunks(b: Uint8Array): Set<string> {
  const found = new Set<string>();
  for (let i = 12; i + 8 <= b.length && found.size < 16; ) {
    found.add(String.fromCharCode(b[i] ?? 0, b[i + 1] ?? 0, b[i + 2] ?? 0, b[i + 3] ?? 0));
    const len = ((b[i + 4] ?? 0) | ((b[i + 5] ?? 0) << 8) | ((b[i + 6] ?? 0) << 16) | ((b[i + 7] ?? 0) << 24)) >>> 0;
    i += 8 + len + (len & 1);
  }
  return found;
}

/**
 * Bytes per source pixel beyond the output, by decoder:
 * - PNG (png_rgba.rs): rows stream into the output (or into one row of block sums at 1/d),
 *   whatever the bit depth or interlacing: 0.
 * - WebP (libwebp, wasm/webp_rgba.wasm): lossless keeps a 4-byte ARGB plane of the full image
 *   whatever the output scale; lossy decodes through a few rows of cache (measured 0.05 a
 *   pixel), and its alpha plane, decoded whole first, 2.17 (measured on a 17 MP photo, at 1/1,
 *   1/2 and 1/8 alike).
 * - JPEG (mozjpeg at full size, jpeg-decoder reduced): a progressive file keeps the DCT
 *   coefficients of every block of the full-size image until its last scan, a baseline one
 *   decodes through a row of blocks. At full size that is all 64 of a block, 2 bytes a sample
 *   (a CMYK one 4 samples a pixel: a 4000×3000 progressive CMYK JPEG at full size measured
 *   +213 MiB peak RSS, the estimate with 3 samples said 192). At 1/d jpeg-decoder keeps only
 *   the (8/d)² coefficients its IDCT reads and a 64-bit mask of the others (the vendored
 *   decoder's `coefficient_stride`): 10 bytes a block at 1/8, 16 at 1/4, 40 at 1/2.
 */
function internalsPerPixel(info: Pick<ImageInfo, 'format'> & DecodeTraits, denominator: ScaleDenominator): number {
  if (info.format === 'png') return 0;
  // AVIF (dav1d + libavif, avif-codec.ts): YUV and reference frames plus libavif's RGB buffer; measured 20 a pixel in all at 12 MP.
  if (info.format === 'avif') return 12;
  if (info.format === 'webp') return info.lossless === false ? (info.alpha === false ? 0 : 2.25) : 4;
  if (info.progressive === false) return 0;
  const k = 8 / denominator;
  const bytesPerSample = denominator === 1 ? 2 : (k * k * 2 + 8) / 64;
  return bytesPerSample * Math.min(4, info.samplesPerPixel ?? 4);
}

/**
 * Peak bytes of decoding a source of this format and size at 1/`denominator` (JPEG and still
 * WebP, `decodesReduced`; other formats decode at full size), `fileBytes` being its size (the decoder holds a copy).
 * An upper bound; `traits` (decodeTraits) make it tighter.
 */
export function decodePeakBytes(info: Pick<ImageInfo, 'format' | 'width' | 'height'> & DecodeTraits, denominator: ScaleDenominator = 1, fileBytes = 0): number {
  const d = decodesReduced(info) ? denominator : 1;
  const outPixels = Math.ceil(info.width / d) * Math.ceil(info.height / d);
  return FIXED_DECODE_BYTES + fileBytes + outPixels * outputBytesPerPixel(info, d) + info.width * info.height * internalsPerPixel(info, d);
}

/**
 * The most pixels a source with these traits can have to decode within `budget` bytes at
 * 1/`denominator` (`decodesReduced` sources; exact at full size, within a few pixels' rounding below it).
 */
export function maxDecodablePixels(info: Pick<ImageInfo, 'format'> & DecodeTraits, budget: number, fileBytes = 0, denominator: ScaleDenominator = 1): number {
  const d = decodesReduced(info) ? denominator : 1;
  return Math.max(0, Math.floor((budget - FIXED_DECODE_BYTES - fileBytes) / (outputBytesPerPixel(info, d) / (d * d) + internalsPerPixel(info, d))));
}
