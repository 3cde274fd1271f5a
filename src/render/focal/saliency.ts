/**
 * The fallback when no face is found: where the detail is, smartcrop-style. Each pixel scores
 * for edges (luma against its neighbours), skin tone and saturation; the square window (half
 * the short side) with the most score is the salient region. Pure JavaScript on the ≤ 320 px
 * downscale: a few milliseconds.
 */
import type { FocalPoint } from '../../core/focal-point.js';

/** Below this mean score per pixel the image is flat (a plain backdrop): the centre is as good as any. */
const MIN_MEAN_SCORE = 4;
/** The best window must hold this much more score than an average one, or nothing stands out. */
const MIN_CONTRAST = 1.25;

export function salientPoint(image: ImageData): FocalPoint | null {
  const { width: w, height: h, data } = image;
  if (w < 8 || h < 8) return null;
  const lum = new Float32Array(w * h);
  for (let i = 0, p = 0; i < lum.length; i++, p += 4) lum[i] = 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;

  // Integral image of the score, one extra row and column of zeros.
  const W = w + 1;
  const sum = new Float64Array(W * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const p = i * 4;
      const l = lum[i]!;
      const nb = (lum[y > 0 ? i - w : i]! + lum[y < h - 1 ? i + w : i]! + lum[x > 0 ? i - 1 : i]! + lum[x < w - 1 ? i + 1 : i]!) / 4;
      const edge = Math.abs(l - nb);
      const [r, g, b] = [data[p]!, data[p + 1]!, data[p + 2]!];
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      const sat = max === 0 ? 0 : (max - min) / max;
      // Saturated colour counts only where it is neither near black nor blown out.
      const satScore = l > 40 && l < 235 ? sat * 20 : 0;
      // Skin: red above green above blue, in a plausible brightness band (Kovac et al.'s rule).
      const skin = r > 95 && g > 40 && b > 20 && max - min > 15 && Math.abs(r - g) > 15 && r > g && r > b ? 30 : 0;
      const alpha = data[p + 3]! / 255;
      row += (edge * 4 + satScore + skin) * alpha;
      sum[(y + 1) * W + x + 1] = sum[y * W + x + 1]! + row;
    }
  }
  const total = sum[h * W + w]!;
  if (total / (w * h) < MIN_MEAN_SCORE) return null;

  const s = Math.max(4, Math.round(Math.min(w, h) / 2));
  const step = Math.max(1, Math.round(s / 16));
  let best = -1;
  let bx = 0;
  let by = 0;
  for (let y = 0; y + s <= h; y += step) {
    for (let x = 0; x + s <= w; x += step) {
      const v = sum[(y + s) * W + x + s]! - sum[y * W + x + s]! - sum[(y + s) * W + x]! + sum[y * W + x]!;
      if (v > best) [best, bx, by] = [v, x, y];
    }
  }
  const average = (total * s * s) / (w * h);
  if (best < MIN_CONTRAST * average) return null;
  return { x: (bx + s / 2) / w, y: (by + s / 2) / h };
}
