/**
 * Reads format, dimensions, alpha and EXIF orientation from an image's headers without
 * decoding it, so limits can be enforced before a decoder allocates anything.
 * Pure and Web-APIs-only: it runs on every host, including the Fastly edge.
 */
import type { Limits } from '../config/service-config.js';
import { HttpError } from '../errors.js';
import { heifHeader, heifKind, unsupportedFormatName } from './sniff-heif.js';

export type SourceFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif';

export interface ImageInfo {
  format: SourceFormat;
  /** Stored (pre-orientation) dimensions; see `orientedSize` for what a viewer shows. */
  width: number;
  height: number;
  hasAlpha: boolean;
  /** EXIF orientation 1..8; 1 when absent or invalid. */
  orientation: number;
}

/** Returns null for anything that is not a JPEG, PNG, WebP, AVIF or GIF with readable dimensions. */
export function sniffImage(bytes: Uint8Array): ImageInfo | null {
  if (bytes.length < 12) return null;
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return sniffJpeg(bytes);
  if (startsWith(bytes, 0, PNG_SIGNATURE)) return sniffPng(bytes);
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return sniffWebp(bytes);
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return sniffGif(bytes);
  if (heifKind(bytes) === 'avif') {
    const header = heifHeader(bytes);
    return header && valid({ format: 'avif', width: header.width, height: header.height, hasAlpha: header.hasAlpha, orientation: header.orientation });
  }
  return null;
}

/** Orientations 5–8 transpose the image: a viewer shows it with width and height swapped. */
export function orientedSize(info: Pick<ImageInfo, 'width' | 'height' | 'orientation'>): { width: number; height: number } {
  return info.orientation >= 5 ? { width: info.height, height: info.width } : { width: info.width, height: info.height };
}

/** Refuses a source before decoding: unknown format, too many bytes, or too many pixels. */
export function checkSourceLimits(bytes: Uint8Array, info: ImageInfo | null, limits: Pick<Limits, 'maxSourceBytes' | 'maxSourcePixels'>): asserts info is ImageInfo {
  if (bytes.length > limits.maxSourceBytes) {
    throw new HttpError(422, 'SOURCE_TOO_LARGE', `source image is ${bytes.length} bytes; the limit is ${limits.maxSourceBytes} bytes`);
  }
  if (!info) {
    const name = unsupportedFormatName(bytes);
    throw new HttpError(422, 'UNSUPPORTED_FORMAT', `source is ${name ? `${name}, which is not supported` : 'not a readable image'}; supported sources: ${SUPPORTED_SOURCES}`);
  }
  const pixels = info.width * info.height;
  if (pixels > limits.maxSourcePixels) {
    throw new HttpError(422, 'SOURCE_TOO_LARGE', `source image is ${info.width}×${info.height} (${pixels} pixels); the limit is ${limits.maxSourcePixels} pixels`);
  }
}

export const SUPPORTED_SOURCES = 'JPEG, PNG, WebP, AVIF, GIF';

/** The Content-Type an original is stored with: its sniffed format's. */
export const SOURCE_CONTENT_TYPES: Record<SourceFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, at: number, sig: number[]): boolean {
  return sig.every((v, i) => b[at + i] === v);
}

function ascii(b: Uint8Array, at: number, len: number): string {
  if (at + len > b.length) return '';
  return String.fromCharCode(...b.subarray(at, at + len));
}

const u16be = (b: Uint8Array, i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
const u16le = (b: Uint8Array, i: number): number => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8);
const u24le = (b: Uint8Array, i: number): number => u16le(b, i) | ((b[i + 2] ?? 0) << 16);
const u32be = (b: Uint8Array, i: number): number => ((u16be(b, i) << 16) >>> 0) + u16be(b, i + 2);
const u32le = (b: Uint8Array, i: number): number => u16le(b, i) + ((u16le(b, i + 2) << 16) >>> 0);

const valid = (info: ImageInfo): ImageInfo | null => (info.width > 0 && info.height > 0 ? info : null);

// ---- JPEG: walk marker segments up to the frame header (SOFn); APP1 "Exif" precedes it.

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
const isSof = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

function sniffJpeg(b: Uint8Array): ImageInfo | null {
  let orientation = 1;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1] ?? 0;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    // Standalone markers carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // EOI/SOS before any frame header
    const len = u16be(b, i + 2);
    if (len < 2) return null;
    const seg = i + 4;
    if (isSof(marker)) {
      if (seg + 5 > b.length) return null;
      // precision(1) height(2) width(2); height 0 (defined later by DNL) is not supported.
      return valid({ format: 'jpeg', width: u16be(b, seg + 3), height: u16be(b, seg + 1), hasAlpha: false, orientation });
    }
    if (marker === 0xe1 && ascii(b, seg, 6) === 'Exif\0\0') {
      orientation = exifOrientation(b.subarray(seg + 6, Math.min(b.length, i + 2 + len)));
    }
    i += 2 + len;
  }
  return null;
}

/** Reads tag 0x0112 from IFD0 of a TIFF-structured EXIF block; 1 when absent or out of range. */
export function exifOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const order = ascii(tiff, 0, 2);
  if (order !== 'II' && order !== 'MM') return 1;
  const le = order === 'II';
  const u16 = (i: number): number => (le ? u16le(tiff, i) : u16be(tiff, i));
  const u32 = (i: number): number => (le ? u32le(tiff, i) : u32be(tiff, i));
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let e = 0; e < count; e++) {
    const at = ifd + 2 + e * 12;
    if (at + 12 > tiff.length) return 1;
    if (u16(at) !== 0x0112) continue;
    // Type SHORT (3); the value sits in the first two bytes of the value field.
    const value = u16(at + 2) === 3 ? u16(at + 8) : 0;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

// ---- PNG: IHDR is the first chunk; tRNS and eXIf, if present, come before IDAT.

function sniffPng(b: Uint8Array): ImageInfo | null {
  if (b.length < 8 + 8 + 13 || ascii(b, 12, 4) !== 'IHDR') return null;
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  const colourType = b[25] ?? 0;
  // 4 = grey + alpha, 6 = RGBA; 0/2/3 gain alpha only through a tRNS chunk.
  let hasAlpha = colourType === 4 || colourType === 6;
  let orientation = 1;
  let i = 8;
  while (i + 8 <= b.length) {
    const len = u32be(b, i);
    const type = ascii(b, i + 4, 4);
    if (type === 'IDAT' || type === 'IEND') break;
    if (type === 'tRNS') hasAlpha = true;
    if (type === 'eXIf') orientation = exifOrientation(b.subarray(i + 8, Math.min(b.length, i + 8 + len)));
    i += 12 + len;
  }
  return valid({ format: 'png', width, height, hasAlpha, orientation });
}

// ---- WebP: RIFF container with a VP8 (lossy), VP8L (lossless) or VP8X (extended) first chunk.

function sniffWebp(b: Uint8Array): ImageInfo | null {
  const chunk = ascii(b, 12, 4);
  const data = 20;
  if (chunk === 'VP8 ') {
    // 3-byte frame tag, then start code 9d 01 2a, then 14-bit width and height.
    if (b.length < data + 10 || b[data + 3] !== 0x9d || b[data + 4] !== 0x01 || b[data + 5] !== 0x2a) return null;
    return valid({ format: 'webp', width: u16le(b, data + 6) & 0x3fff, height: u16le(b, data + 8) & 0x3fff, hasAlpha: false, orientation: 1 });
  }
  if (chunk === 'VP8L') {
    if (b.length < data + 5 || b[data] !== 0x2f) return null;
    const bits = u32le(b, data + 1);
    return valid({
      format: 'webp',
      width: (bits & 0x3fff) + 1,
      height: ((bits >>> 14) & 0x3fff) + 1,
      hasAlpha: ((bits >>> 28) & 1) === 1,
      orientation: 1,
    });
  }
  if (chunk === 'VP8X') {
    if (b.length < data + 10) return null;
    const flags = b[data] ?? 0;
    const info: ImageInfo = {
      format: 'webp',
      width: u24le(b, data + 4) + 1,
      height: u24le(b, data + 7) + 1,
      hasAlpha: (flags & 0x10) !== 0,
      orientation: 1,
    };
    if (flags & 0x08) info.orientation = webpExifOrientation(b);
    return valid(info);
  }
  return null;
}

function webpExifOrientation(b: Uint8Array): number {
  let i = 12;
  while (i + 8 <= b.length) {
    const len = u32le(b, i + 4);
    if (ascii(b, i, 4) === 'EXIF') {
      let exif = b.subarray(i + 8, Math.min(b.length, i + 8 + len));
      // Some writers keep the JPEG-style "Exif\0\0" prefix.
      if (ascii(exif, 0, 6) === 'Exif\0\0') exif = exif.subarray(6);
      return exifOrientation(exif);
    }
    i += 8 + len + (len & 1); // chunks are padded to even sizes
  }
  return 1;
}

// ---- GIF: logical screen size from the header; alpha when the first frame has a transparent
// colour or does not cover the screen (the uncovered part renders transparent).

function sniffGif(b: Uint8Array): ImageInfo | null {
  const width = u16le(b, 6);
  const height = u16le(b, 8);
  const flags = b[10] ?? 0;
  let i = 13 + (flags & 0x80 ? 3 * (2 << (flags & 7)) : 0);
  let transparent = false;
  while (i < b.length) {
    const block = b[i];
    if (block === 0x21) {
      // Extension: a Graphic Control Extension (F9) before the first image carries its transparency flag.
      if (b[i + 1] === 0xf9 && b[i + 2] === 4) transparent = ((b[i + 3] ?? 0) & 1) === 1;
      i += 2;
      while (i < b.length && b[i] !== 0) i += 1 + (b[i] ?? 0);
      i += 1;
    } else if (block === 0x2c) {
      const [left, top, w, h] = [u16le(b, i + 1), u16le(b, i + 3), u16le(b, i + 5), u16le(b, i + 7)];
      const covers = left === 0 && top === 0 && w >= width && h >= height;
      return valid({ format: 'gif', width, height, hasAlpha: transparent || !covers, orientation: 1 });
    } else {
      return null; // the trailer or junk before any image
    }
  }
  return null;
}
