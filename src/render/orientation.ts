/**
 * Applies an EXIF orientation to RGBA pixels, so the output looks the way viewers show the
 * source. The renderer calls this on the resized image (orientation commutes with a centred
 * crop and a resize), which keeps it cheap even for 16 MP photos.
 */
import { toImageData } from './image-data.js';

/**
 * For output pixel (x, y): source sx = x0 + xx·x + xy·y, sy = y0 + yx·x + yy·y, with x0/y0
 * in units of (w-1, h-1) of the source. 2 mirror, 3 rotate 180°, 4 flip, 5 transpose,
 * 6 rotate 90° CW, 7 transverse, 8 rotate 90° CCW.
 */
const AFFINE: Record<number, { x0: number; y0: number; xx: number; xy: number; yx: number; yy: number }> = {
  2: { x0: 1, y0: 0, xx: -1, xy: 0, yx: 0, yy: 1 },
  3: { x0: 1, y0: 1, xx: -1, xy: 0, yx: 0, yy: -1 },
  4: { x0: 0, y0: 1, xx: 1, xy: 0, yx: 0, yy: -1 },
  5: { x0: 0, y0: 0, xx: 0, xy: 1, yx: 1, yy: 0 },
  6: { x0: 0, y0: 1, xx: 0, xy: 1, yx: -1, yy: 0 },
  7: { x0: 1, y0: 1, xx: 0, xy: -1, yx: -1, yy: 0 },
  8: { x0: 1, y0: 0, xx: 0, xy: -1, yx: 1, yy: 0 },
};

export function applyOrientation(image: ImageData, orientation: number): ImageData {
  const t = AFFINE[orientation];
  if (!t) return image;
  const { width: w, height: h } = image;
  const transposed = orientation >= 5;
  const ow = transposed ? h : w;
  const oh = transposed ? w : h;
  const src = new Uint32Array(image.data.buffer, image.data.byteOffset, w * h);
  const out = new Uint8ClampedArray(ow * oh * 4);
  const dst = new Uint32Array(out.buffer);
  // Source index = start + x·stepX + y·stepY.
  const start = t.y0 * (h - 1) * w + t.x0 * (w - 1);
  const stepX = t.yx * w + t.xx;
  const stepY = t.yy * w + t.xy;
  let o = 0;
  for (let y = 0; y < oh; y++) {
    let s = start + y * stepY;
    for (let x = 0; x < ow; x++, s += stepX) dst[o++] = src[s] as number;
  }
  return toImageData(out, ow, oh);
}

/** Where a point of the displayed image (fractions of its sides) lies in the stored pixels. */
export function storedPoint(p: { x: number; y: number }, orientation: number): { x: number; y: number } {
  const t = AFFINE[orientation];
  if (!t) return p;
  return { x: t.x0 + t.xx * p.x + t.xy * p.y, y: t.y0 + t.yx * p.x + t.yy * p.y };
}
