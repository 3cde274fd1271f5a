/**
 * Resizing an image with alpha must not change the colour of what is visible: the colours
 * hidden under transparent pixels must not bleed in (no fringe), and lanczos3's ringing must
 * not tint opaque pixels. The premultiplied resize (and the alpha-weighted box pre-shrink)
 * keep a known colour within 2 levels; a plain RGBA resize brings the hidden colour in, and a
 * premultiply done in 8 bits around an unpremultiplied resize tints the edge by up to ~19.
 */
import { describe, expect, it } from 'vitest';
import { toImageData } from '../../src/render/image-data.js';
import { codecs, decodeOutput, renderer, variant } from './helpers.js';

const COLOUR = [200, 120, 40] as const;
const HIDDEN = [0, 255, 255] as const; // cyan under the transparent pixels

/** A disc of COLOUR on transparent; `soft` gives it a ~3 px anti-aliased rim. */
function disc(size: number, soft: boolean): ImageData {
  const d = new Uint8ClampedArray(size * size * 4);
  const radius = size * 0.35;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - size / 2 + 0.5, y - size / 2 + 0.5);
      const a = soft ? Math.max(0, Math.min(1, (radius - r) / 3 + 0.5)) : r < radius ? 1 : 0;
      d.set(a > 0 ? [...COLOUR, Math.round(a * 255)] : [...HIDDEN, 0], (y * size + x) * 4);
    }
  }
  return toImageData(d, size, size);
}

/** Largest channel difference from COLOUR over pixels with alpha ≥ minAlpha, and how many there are. */
function worst(img: ImageData, minAlpha: number): { diff: number; count: number } {
  let diff = 0;
  let count = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    if ((img.data[i + 3] as number) < minAlpha) continue;
    count++;
    for (let c = 0; c < 3; c++) diff = Math.max(diff, Math.abs((img.data[i + c] as number) - COLOUR[c]!));
  }
  return { diff, count };
}

describe('resizing images with alpha keeps the visible colour', () => {
  for (const soft of [false, true]) {
    for (const [from, to] of [
      [100, 37],
      [300, 128],
      [90, 45],
    ] as const) {
      it(`${soft ? 'soft' : 'hard'} edge, ${from} → ${to} px (lanczos3, premultiplied)`, async () => {
        const c = await codecs();
        const out = await c.resize(disc(from, soft), { x: 0, y: 0, width: from, height: from }, 1, to, to, true);
        // Opaque and half-transparent pixels alike: no dark, bright or cyan fringe.
        for (const minAlpha of [255, 128, 32]) {
          const { diff, count } = worst(out, minAlpha);
          expect(count).toBeGreaterThan(0);
          expect(diff, `alpha ≥ ${minAlpha}`).toBeLessThanOrEqual(2);
        }
      });
    }
  }

  it('through the renderer, with the box pre-shrink (512 → 64 cover, PNG output)', async () => {
    const src = disc(512, true);
    const png = await (await codecs()).encode('png', src, 100);
    const out = await decodeOutput((await (await renderer()).render(png, variant(64, 64, 'cover', 'png'))).body);
    expect(out.width).toBe(64);
    for (const minAlpha of [255, 128, 32]) {
      const { diff, count } = worst(out, minAlpha);
      expect(count).toBeGreaterThan(0);
      expect(diff, `alpha ≥ ${minAlpha}`).toBeLessThanOrEqual(2);
    }
  });
});
