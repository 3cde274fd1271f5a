/**
 * Source bytes → pixels: sniff the header, enforce limits before any allocation, decode.
 * Everything wrong with the bytes themselves is the client's (or uploader's) problem: 422.
 */
import { LIMIT_DEFAULTS, type Limits } from '../core/config/service-config.js';
import { HttpError, isHttpError } from '../core/errors.js';
import { checkSourceLimits, type ImageInfo, sniffImage } from '../core/image/sniff.js';
import { heifHeader } from '../core/image/sniff-heif.js';
import type { Codecs, DecodeInto } from './codecs.js';
import { embeddedIcc, jpegComponents } from './colour/embedded-icc.js';
import { type DecodeTraits, decodesReduced, decodeTraits } from './decode-peak.js';
import { jpegStructureProblem } from './jpeg-dc-scans.js';
import type { ScaleDenominator } from './jpeg-scaled.js';
import { pngStructureProblem } from './png-check.js';
import { sourceTooLargeForMemory } from './render-memory.js';

/** BT.709 (1) or unspecified (2) primaries are sRGB's: no pass over the pixels (colour.rs `cicp_profile` decides the rest). */
const cicpNamesOtherPrimaries = (cicp: { primaries: number }): boolean => cicp.primaries !== 1 && cicp.primaries !== 2;

export interface DecodedSource {
  info: ImageInfo & DecodeTraits;
  /** The source's pixels at 1/`denominator` scale (or what `into` made of them). */
  image: ImageData;
  denominator: ScaleDenominator;
}

export interface DecodeOptions {
  /** Given the header facts, what to make of the full-size pixels instead of returning them (codecs.ts). */
  into?: (info: ImageInfo) => DecodeInto | undefined;
  /** For a JPEG, a still WebP or a non-interlaced PNG (decode-peak.ts `decodesReduced`): the scale to decode at; full size when absent or 1. */
  denominator?: (info: ImageInfo) => ScaleDenominator;
}

export function decodeFailed(cause: unknown, detail?: string): HttpError {
  const err = new HttpError(422, 'DECODE_FAILED', 'the source image is corrupt or uses an unsupported encoding');
  err.cause = detail ? `${detail}: ${String(cause)}` : cause;
  return err;
}

/** What the structure checks found (our own words, never a decoder's): safe to tell the client. */
function structureFailed(format: string, problem: string): HttpError {
  const err = new HttpError(422, 'DECODE_FAILED', `the source ${format.toUpperCase()} is corrupt: ${problem}`);
  err.cause = problem;
  return err;
}

export interface SourceLimits extends Pick<Limits, 'maxSourceBytes' | 'maxSourcePixels'>, Partial<Pick<Limits, 'renderMemoryBytes'>> {}

/**
 * Refusals from the bytes alone, before any decoder runs: limits, the memory budget
 * (render-memory.ts: a source whose smallest decode cannot fit), and a structure walk (a cut file, too many scans) that
 * costs a scan of the bytes instead of a decode. `walkJpeg` is that walk for a JPEG
 * (jpeg-dc-scans.ts; decodeSource passes the codecs' WebAssembly one, with the same verdicts).
 */
export function checkSource(bytes: Uint8Array, limits: SourceLimits, walkJpeg: (bytes: Uint8Array) => string | null = jpegStructureProblem): ImageInfo & DecodeTraits {
  const sniffed = sniffImage(bytes);
  checkSourceLimits(bytes, sniffed, limits);
  const info = { ...sniffed, ...decodeTraits(bytes, sniffed) };
  // The renderer's memory budget (LIMIT_DEFAULTS when absent): an interlaced PNG decodes only at
  // full size, a progressive JPEG keeps coefficients for the whole image; the scheduler refuses with the same rule.
  const tooLarge = sourceTooLargeForMemory(info, limits.renderMemoryBytes ?? LIMIT_DEFAULTS.renderMemoryBytes, bytes.length);
  if (tooLarge) throw tooLarge;
  const problem = info.format === 'jpeg' ? walkJpeg(bytes) : info.format === 'png' ? pngStructureProblem(bytes) : null;
  if (problem) throw structureFailed(info.format, problem);
  return info;
}

export async function decodeSource(codecs: Codecs, bytes: Uint8Array, limits: SourceLimits, opts: DecodeOptions = {}): Promise<DecodedSource> {
  // The JPEG walk in WebAssembly: the same verdicts, a fraction of the time (codecs.ts).
  const info = checkSource(bytes, limits, (b) => codecs.jpegStructureProblem(b));
  const denominator = decodesReduced(info) ? (opts.denominator?.(info) ?? 1) : 1;
  // CMYK and YCCK JPEGs only the project's decoder reads (mozjpeg's build has no CMYK → RGB).
  if (info.format === 'jpeg' && (denominator > 1 || jpegComponents(bytes) === 4)) {
    const image = codecs.decodeReduced(bytes, denominator);
    if (image) return { info, image, denominator };
  }
  // Here a JPEG is decoded whole by mozjpeg; a still WebP or PNG at 1/d comes straight from its
  // decoder (codecs.ts; `denominator` is 1 for what cannot be reduced). `into` wants full-size pixels.
  const scaled = info.format === 'jpeg' ? 1 : denominator;
  let image: ImageData;
  try {
    image = await codecs.decode(info.format, bytes, scaled > 1 ? undefined : opts.into?.(info), scaled);
  } catch (err) {
    if (isHttpError(err)) throw err;
    // Emscripten reports mozjpeg/libwebp failures as an ExitStatus or a bare "Decoding error".
    throw decodeFailed(err, codecs.lastDiagnostic());
  }
  if (!image || image.width <= 0 || image.height <= 0 || image.data.length !== image.width * image.height * 4) {
    throw decodeFailed(new Error('decoder returned no pixels'));
  }
  // mozjpeg and libwebp ignore the file's colour profile: convert (after `into` or libwebp's
  // shrink, so usually a fraction of the source's pixels). PNG's decoder has converted.
  const icc = info.format === 'png' ? undefined : embeddedIcc(info.format, bytes);
  // An AVIF without a profile may name its colour space by CICP codes (nclx) instead.
  const cicp = !icc && info.format === 'avif' ? heifHeader(bytes)?.cicp : undefined;
  if (icc || (cicp && cicpNamesOtherPrimaries(cicp))) {
    try {
      image = icc ? codecs.toSrgb(image, icc) : codecs.cicpToSrgb(image, cicp!);
    } catch (err) {
      throw decodeFailed(err);
    }
  }
  return { info, image, denominator: scaled };
}
