/**
 * How many frames an animated GIF or WebP has, from its block and chunk structure alone (no
 * pixel is decoded): what the animation limits (src/render/animation/animation-plan.ts) are
 * checked against before any decoder runs, and what tells `fmt=auto` an original is animated
 * (original-animation.ts). The frame decoder never composites more frames than this count,
 * whatever the file holds past a structure the walk could not follow.
 */
import { type ImageInfo, sniffImage } from './sniff.js';

/** The number of frames (images) in the source: 1 for anything that is not an animated GIF or WebP. */
export function frameCount(bytes: Uint8Array, info: Pick<ImageInfo, 'format'>): number {
  if (info.format === 'gif') return Math.max(1, walkGif(bytes).images);
  if (info.format === 'webp' && isAnimatedWebp(bytes)) return webpFrames(bytes);
  return 1;
}

/** A WebP with the VP8X animation flag (what libwebp's WebPGetFeatures reports as has_animation). */
export function isAnimatedWebp(b: Uint8Array): boolean {
  return b.length > 20 && String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) === 'VP8X' && (b[20]! & 0x02) !== 0;
}

/**
 * Whether the bytes are an animated GIF or WebP. A GIF whose walk runs out of bytes after its
 * first image (the first 64 KiB of a larger file, as the Fastly edge reads) counts as animated:
 * a WebP of a still is right too, a still of an animation is not.
 */
export function isAnimatedImage(bytes: Uint8Array): boolean {
  const format = sniffImage(bytes)?.format;
  if (format === 'webp') return isAnimatedWebp(bytes);
  if (format !== 'gif') return false;
  const { images, cut } = walkGif(bytes);
  return images > 1 || (images === 1 && cut);
}

/** Image descriptors before the trailer (or the end of what can be walked); `cut` when the bytes ended first. */
function walkGif(b: Uint8Array): { images: number; cut: boolean } {
  const flags = b[10] ?? 0;
  let i = 13 + (flags & 0x80 ? 3 * (2 << (flags & 7)) : 0);
  let images = 0;
  const skipSubBlocks = (at: number): number => {
    while (at < b.length && b[at] !== 0) at += 1 + (b[at] ?? 0);
    return at + 1;
  };
  while (i < b.length) {
    const block = b[i];
    if (block === 0x21) {
      i = skipSubBlocks(i + 2);
    } else if (block === 0x2c) {
      images++;
      const local = b[i + 9] ?? 0;
      i += 10 + (local & 0x80 ? 3 * (2 << (local & 7)) : 0);
      i = skipSubBlocks(i + 1); // the LZW minimum code size, then the image data
    } else {
      return { images, cut: false }; // the trailer (0x3B), or junk the decoder will stop at too
    }
  }
  return { images, cut: true };
}

/** ANMF chunks at the top level of the RIFF container. */
function webpFrames(b: Uint8Array): number {
  let frames = 0;
  for (let i = 12; i + 8 <= b.length; ) {
    if (b[i] === 0x41 && b[i + 1] === 0x4e && b[i + 2] === 0x4d && b[i + 3] === 0x46) frames++; // 'ANMF'
    const len = ((b[i + 4] ?? 0) | ((b[i + 5] ?? 0) << 8) | ((b[i + 6] ?? 0) << 16) | ((b[i + 7] ?? 0) << 24)) >>> 0;
    i += 8 + len + (len & 1);
  }
  return Math.max(1, frames);
}
