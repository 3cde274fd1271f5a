/**
 * Cheap integer pre-shrink before the quality filter. Lanczos3 cost grows with the source
 * size (its kernel widens with the scale factor), and resize dominates on large photos; a box
 * filter by an integer factor down to 2–3× the target, then lanczos3, looks the same (the
 * box's aliasing is far above the final Nyquist limit) at a fraction of the cost. libvips does
 * the same ("shrink" then "reduce").
 */
import { blankImage, toImageData } from './image-data.js';
import type { Rect, Size } from './geometry.js';

/** Integer factor that leaves at least 2× the target in both axes; 1 means "not worth it". */
export function shrinkFactor(region: Size, target: Size): number {
  const ratio = Math.min(region.width / target.width, region.height / target.height);
  const k = Math.floor(ratio / 2);
  return k >= 2 ? k : 1;
}

/**
 * Copies `region` of the image, box-averaged by `factor` (1 = plain crop). The region is
 * trimmed to a multiple of the factor, symmetrically (under one shrunk pixel per side). With
 * alpha, colours are averaged weighted by alpha so transparent pixels' hidden colours don't
 * bleed into the edges.
 */
export function cropAndShrink(image: ImageData, region: Rect, factor: number, hasAlpha: boolean): ImageData {
  if (factor <= 1) return crop(image, region);
  const k = factor;
  const ow = Math.floor(region.width / k);
  const oh = Math.floor(region.height / k);
  const x0 = region.x + Math.floor((region.width - ow * k) / 2);
  const y0 = region.y + Math.floor((region.height - oh * k) / 2);
  const out = blankImage(ow, oh);
  const shrink = hasAlpha ? shrinkWeighted : shrinkOpaque;
  shrink(image, out, x0, y0, k);
  return out;
}

// Pixels are read as one little-endian u32 (R in the low byte), a quarter of the loads of
// byte access; WebAssembly and every host CPU this runs on are little-endian.
const pixelsOf = (i: ImageData): Uint32Array => new Uint32Array(i.data.buffer, i.data.byteOffset, i.width * i.height);

function shrinkOpaque(image: ImageData, out: ImageData, x0: number, y0: number, k: number): void {
  const src = pixelsOf(image);
  const dst = out.data;
  const ow = out.width;
  const r = new Float64Array(ow);
  const g = new Float64Array(ow);
  const b = new Float64Array(ow);
  const area = k * k;
  for (let oy = 0; oy < out.height; oy++) {
    r.fill(0);
    g.fill(0);
    b.fill(0);
    for (let sy = y0 + oy * k, end = sy + k; sy < end; sy++) {
      let s = sy * image.width + x0;
      for (let ox = 0; ox < ow; ox++) {
        let rr = 0;
        let gg = 0;
        let bb = 0;
        for (let kx = 0; kx < k; kx++) {
          const p = src[s++] as number;
          rr += p & 255;
          gg += (p >>> 8) & 255;
          bb += (p >>> 16) & 255;
        }
        r[ox] = (r[ox] as number) + rr;
        g[ox] = (g[ox] as number) + gg;
        b[ox] = (b[ox] as number) + bb;
      }
    }
    // Uint8ClampedArray rounds to nearest on store.
    for (let ox = 0, d = oy * ow * 4; ox < ow; ox++, d += 4) {
      dst[d] = (r[ox] as number) / area;
      dst[d + 1] = (g[ox] as number) / area;
      dst[d + 2] = (b[ox] as number) / area;
      dst[d + 3] = 255;
    }
  }
}

function shrinkWeighted(image: ImageData, out: ImageData, x0: number, y0: number, k: number): void {
  const src = pixelsOf(image);
  const dst = out.data;
  const ow = out.width;
  const r = new Float64Array(ow);
  const g = new Float64Array(ow);
  const b = new Float64Array(ow);
  const a = new Float64Array(ow);
  const area = k * k;
  for (let oy = 0; oy < out.height; oy++) {
    r.fill(0);
    g.fill(0);
    b.fill(0);
    a.fill(0);
    for (let sy = y0 + oy * k, end = sy + k; sy < end; sy++) {
      let s = sy * image.width + x0;
      for (let ox = 0; ox < ow; ox++) {
        let rr = 0;
        let gg = 0;
        let bb = 0;
        let aa = 0;
        for (let kx = 0; kx < k; kx++) {
          const p = src[s++] as number;
          const w = p >>> 24;
          rr += (p & 255) * w;
          gg += ((p >>> 8) & 255) * w;
          bb += ((p >>> 16) & 255) * w;
          aa += w;
        }
        r[ox] = (r[ox] as number) + rr;
        g[ox] = (g[ox] as number) + gg;
        b[ox] = (b[ox] as number) + bb;
        a[ox] = (a[ox] as number) + aa;
      }
    }
    for (let ox = 0, d = oy * ow * 4; ox < ow; ox++, d += 4) {
      const aa = a[ox] as number;
      if (aa === 0) continue; // fully transparent block stays 0,0,0,0
      dst[d] = (r[ox] as number) / aa;
      dst[d + 1] = (g[ox] as number) / aa;
      dst[d + 2] = (b[ox] as number) / aa;
      dst[d + 3] = aa / area;
    }
  }
}

function crop(image: ImageData, r: Rect): ImageData {
  if (r.x === 0 && r.y === 0 && r.width === image.width && r.height === image.height) return image;
  const out = new Uint8ClampedArray(r.width * r.height * 4);
  copyRegion(image, r, out);
  return toImageData(out, r.width, r.height);
}

/** Writes region `r` of the image, row after row, to the start of `out` (r.width × r.height × 4 bytes). */
export function copyRegion(image: ImageData, r: Rect, out: Uint8Array | Uint8ClampedArray): void {
  const rowBytes = r.width * 4;
  for (let row = 0; row < r.height; row++) {
    const from = ((r.y + row) * image.width + r.x) * 4;
    out.set(image.data.subarray(from, from + rowBytes), row * rowBytes);
  }
}
