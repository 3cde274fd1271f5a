/**
 * Source bytes → pixels: sniff the header, enforce limits before any allocation, decode.
 * Everything wrong with the bytes themselves is the client's (or uploader's) problem: 422.
 */
import type { Limits } from '../core/config/service-config.js';
import { HttpError, isHttpError } from '../core/errors.js';
import { checkSourceLimits, type ImageInfo, sniffImage } from '../core/image/sniff.js';
import type { Codecs, DecodeInto } from './codecs.js';
import type { ScaleDenominator } from './jpeg-scaled.js';

export interface DecodedSource {
  info: ImageInfo;
  /** The source's pixels at 1/`denominator` scale (or what `into` made of them). */
  image: ImageData;
  denominator: ScaleDenominator;
}

export interface DecodeOptions {
  /** Given the header facts, what to make of the full-size pixels instead of returning them (codecs.ts). */
  into?: (info: ImageInfo) => DecodeInto | undefined;
  /** For a JPEG: the scale to decode at (jpeg-scaled.ts); full size when absent or 1. */
  denominator?: (info: ImageInfo) => ScaleDenominator;
}

export function decodeFailed(cause: unknown, detail?: string): HttpError {
  const err = new HttpError(422, 'DECODE_FAILED', 'the source image is corrupt or uses an unsupported encoding');
  err.cause = detail ? `${detail}: ${String(cause)}` : cause;
  return err;
}

export async function decodeSource(
  codecs: Codecs,
  bytes: Uint8Array,
  limits: Pick<Limits, 'maxSourceBytes' | 'maxSourcePixels'>,
  opts: DecodeOptions = {},
): Promise<DecodedSource> {
  const info = sniffImage(bytes);
  checkSourceLimits(bytes, info, limits);
  const denominator = info.format === 'jpeg' ? (opts.denominator?.(info) ?? 1) : 1;
  if (denominator > 1) {
    const image = codecs.decodeReduced(bytes, denominator);
    if (image) return { info, image, denominator };
  }
  let image: ImageData;
  try {
    image = await codecs.decode(info.format, bytes, opts.into?.(info));
  } catch (err) {
    if (isHttpError(err)) throw err;
    // Emscripten reports mozjpeg/libwebp failures as an ExitStatus or a bare "Decoding error".
    throw decodeFailed(err, codecs.lastDiagnostic());
  }
  if (!image || image.width <= 0 || image.height <= 0 || image.data.length !== image.width * image.height * 4) {
    throw decodeFailed(new Error('decoder returned no pixels'));
  }
  return { info, image, denominator: 1 };
}
