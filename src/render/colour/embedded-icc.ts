/**
 * The ICC profile a JPEG, WebP or AVIF carries, for the decoders that ignore it (mozjpeg, libwebp, libavif):
 * their pixels are then converted to sRGB by the project's decoder module (codecs.ts `toSrgb`,
 * moxcms in wasm/jpeg-scaled/src/colour.rs). The project's own JPEG and PNG decoders read the
 * profile themselves. A walk of the headers only: nothing is decoded, and a file without a
 * profile costs one pass over its first segments.
 */

import { heifHeader } from '../../core/image/sniff-heif.js';
import type { SourceFormat } from '../../core/image/sniff.js';

/** Larger profiles are ignored (real ones are 0.5–60 KB; CMYK LUT profiles up to ~2 MB). */
export const MAX_ICC_BYTES = 4 * 1024 * 1024;

const ascii = (b: Uint8Array, at: number, len: number): string => (at + len > b.length ? '' : String.fromCharCode(...b.subarray(at, at + len)));
const u16be = (b: Uint8Array, i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
const u32le = (b: Uint8Array, i: number): number => ((b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16)) + (b[i + 3] ?? 0) * 0x1000000;

export function embeddedIcc(format: SourceFormat, bytes: Uint8Array): Uint8Array | undefined {
  if (format === 'jpeg') return jpegIcc(bytes);
  if (format === 'webp') return webpIcc(bytes);
  // AVIF: a colr box with an ICC profile (a CICP-only nclx box: decode-source.ts, codecs.ts `cicpToSrgb`).
  if (format === 'avif') return heifHeader(bytes)?.icc;
  return undefined;
}

/** Walks JPEG marker segments up to the first scan; calls `visit` with each segment's marker and payload. */
function jpegSegments(b: Uint8Array, visit: (marker: number, payload: Uint8Array) => void): void {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return;
    const marker = b[i + 1] ?? 0;
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return;
    const len = u16be(b, i + 2);
    if (len < 2) return;
    visit(marker, b.subarray(i + 4, Math.min(b.length, i + 2 + len)));
    i += 2 + len;
  }
}

/**
 * APP2 "ICC_PROFILE\0" segments, each with its sequence number and count (ICC.1 B.4): joined
 * in sequence order. An incomplete or inconsistent set is ignored, as libjpeg's
 * read_icc_profile does.
 */
export function jpegIcc(bytes: Uint8Array): Uint8Array | undefined {
  const chunks = new Map<number, Uint8Array>();
  let count = 0;
  let bad = false;
  jpegSegments(bytes, (marker, payload) => {
    if (marker !== 0xe2 || ascii(payload, 0, 12) !== 'ICC_PROFILE\0' || payload.length < 14) return;
    const seq = payload[12]!;
    const n = payload[13]!;
    if (seq === 0 || seq > n || (count !== 0 && n !== count) || chunks.has(seq)) bad = true;
    count = n;
    chunks.set(seq, payload.subarray(14));
  });
  if (bad || count === 0 || chunks.size !== count) return undefined;
  let total = 0;
  for (const c of chunks.values()) total += c.length;
  if (total === 0 || total > MAX_ICC_BYTES) return undefined;
  const out = new Uint8Array(total);
  let at = 0;
  for (let seq = 1; seq <= count; seq++) {
    out.set(chunks.get(seq)!, at);
    at += chunks.get(seq)!.length;
  }
  return out;
}

/** The number of colour components in a JPEG's frame header (4: CMYK or YCCK), 0 if none found. */
export function jpegComponents(bytes: Uint8Array): number {
  let components = 0;
  jpegSegments(bytes, (marker, payload) => {
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof && components === 0 && payload.length >= 6) components = payload[5]!;
  });
  return components;
}

/** A WebP's ICCP chunk (extended format, VP8X with the ICC flag). */
export function webpIcc(bytes: Uint8Array): Uint8Array | undefined {
  if (ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WEBP' || ascii(bytes, 12, 4) !== 'VP8X') return undefined;
  let i = 12;
  while (i + 8 <= bytes.length) {
    const id = ascii(bytes, i, 4);
    const size = u32le(bytes, i + 4);
    if (id === 'ICCP') return size > 0 && size <= MAX_ICC_BYTES && i + 8 + size <= bytes.length ? bytes.subarray(i + 8, i + 8 + size) : undefined;
    // The ICCP chunk comes right after VP8X when present (WebP container spec); stop at image data.
    if (id === 'VP8 ' || id === 'VP8L' || id === 'ANIM' || id === 'ALPH') return undefined;
    i += 8 + size + (size & 1);
  }
  return undefined;
}
