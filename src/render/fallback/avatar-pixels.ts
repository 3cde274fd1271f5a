/**
 * The generated fallback avatar as RGBA pixels, a pure function of the image id: initials in
 * white on a diagonal two-tone gradient whose hue and saturation come from a hash of the id.
 * Same id → same pixels on every host (integer hash, no randomness, no fonts, no platform
 * APIs); different ids → different colours, and usually different initials.
 */
import type { Fit } from '../../core/variant.js';
import { toImageData } from '../image-data.js';
import { GLYPH_COLS, GLYPH_ROWS, glyph } from './glyphs.js';

export interface PixelSize {
  width: number;
  height: number;
}

/** Up to two initials: the first character of the first two alphanumeric runs ('u-42' → 'U4', 'hopper' → 'H'). */
export function initialsOf(id: string): string {
  const parts = id.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const letters = parts.slice(0, 2).map((p) => p[0]!.toUpperCase());
  return letters.length ? letters.join('') : '?';
}

/** FNV-1a over the UTF-8 bytes, then murmur3's finalizer so every output bit depends on every input bit. */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(id)) h = Math.imul(h ^ b, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

type Rgb = [number, number, number];

function hsl(h: number, s: number, l: number): Rgb {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1));
  return [f(0) * 255, f(8) * 255, f(4) * 255];
}

/**
 * The two gradient stops for an id. Lightness stays at 0.28–0.52 so white initials keep
 * contrast, and drops for yellows and greens (around hue 70), which look lighter at equal HSL
 * lightness.
 */
export function avatarColours(id: string): { from: Rgb; to: Rgb } {
  const h = hashId(id);
  const hue = (h % 3600) / 10;
  const sat = 0.45 + ((h >>> 12) % 25) / 100;
  const bright = Math.max(0, Math.cos(((hue - 70) * Math.PI) / 180));
  return { from: hsl(hue, sat, 0.52 - 0.12 * bright), to: hsl((hue + 25) % 360, sat, 0.36 - 0.08 * bright) };
}

/**
 * The output size for a requested box. A generated avatar is an unbounded square source:
 * a free side (0) follows the other (square); cover and contain fill the box exactly (a
 * background has no edges to letterbox); inside gives the largest square that fits.
 */
export function fallbackSize(box: PixelSize & { fit: Fit }, defaultSize = 256): PixelSize {
  let { width, height } = box;
  if (width <= 0 && height <= 0) width = height = defaultSize;
  else if (width <= 0) width = height;
  else if (height <= 0) height = width;
  else if (box.fit === 'inside') width = height = Math.min(width, height);
  return { width, height };
}

/** Overlap of pixel [p, p+1) with the span [a, b): the exact area coverage along one axis. */
const overlap = (p: number, a: number, b: number) => Math.max(0, Math.min(p + 1, b) - Math.max(p, a));

export function avatarPixels(id: string, width: number, height: number): ImageData {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`avatar size must be positive integers, got ${width}×${height}`);
  }
  const data = new Uint8ClampedArray(width * height * 4);
  const { from, to } = avatarColours(id);

  // Background: diagonal gradient, top-left light to bottom-right dark.
  const span = Math.max(1, width + height - 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x + y) / span;
      const i = (y * width + x) * 4;
      data[i] = from[0] + (to[0] - from[0]) * t;
      data[i + 1] = from[1] + (to[1] - from[1]) * t;
      data[i + 2] = from[2] + (to[2] - from[2]) * t;
      data[i + 3] = 255;
    }
  }

  // Initials: glyph cells scaled to the short side, centred, one empty column between glyphs.
  // Each row's runs of cells are widened by BOLD of a cell to the right (how bitmap fonts
  // embolden): 1-cell strokes look thin at avatar sizes. Runs never touch (gaps are >= 1 cell),
  // so summing their coverage is exact.
  const BOLD = 0.45;
  const glyphs = [...initialsOf(id)].map(glyph);
  const cols = glyphs.length * GLYPH_COLS + (glyphs.length - 1);
  const side = Math.min(width, height);
  const cell = Math.min((side * 0.42) / GLYPH_ROWS, (side * 0.62) / (cols + BOLD));
  const left = (width - (cols + BOLD) * cell) / 2;
  const top = (height - GLYPH_ROWS * cell) / 2;

  const runs: { row: number; a: number; b: number }[] = [];
  for (let row = 0; row < GLYPH_ROWS; row++) {
    const line = glyphs.map((g) => g[row]!).join('.');
    for (const m of line.matchAll(/#+/g)) {
      runs.push({ row, a: left + m.index * cell, b: left + (m.index + m[0].length + BOLD) * cell });
    }
  }

  const y0 = Math.max(0, Math.floor(top));
  const y1 = Math.min(height, Math.ceil(top + GLYPH_ROWS * cell));
  const x0 = Math.max(0, Math.floor(left));
  const x1 = Math.min(width, Math.ceil(left + (cols + BOLD) * cell));
  const alpha = new Float64Array(x1 - x0);
  for (let y = y0; y < y1; y++) {
    alpha.fill(0);
    for (const run of runs) {
      const cy = overlap(y, top + run.row * cell, top + (run.row + 1) * cell);
      if (cy <= 0) continue;
      for (let x = Math.max(x0, Math.floor(run.a)); x < Math.min(x1, Math.ceil(run.b)); x++) alpha[x - x0]! += cy * overlap(x, run.a, run.b);
    }
    for (let x = x0; x < x1; x++) {
      const a = Math.min(1, alpha[x - x0]!);
      if (a <= 0) continue;
      const i = (y * width + x) * 4;
      for (let ch = 0; ch < 3; ch++) data[i + ch] = data[i + ch]! + (255 - data[i + ch]!) * a;
    }
  }
  return toImageData(data, width, height);
}
