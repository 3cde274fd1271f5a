import { describe, expect, it } from 'vitest';
import { flattenAlpha, usesAlpha } from '../../src/render/alpha.js';
import { toImageData } from '../../src/render/image-data.js';
import { letterbox } from '../../src/render/letterbox.js';
import { cropAndShrink, shrinkFactor } from '../../src/render/pre-shrink.js';
import { pixel, solid } from './helpers.js';

describe('shrinkFactor', () => {
  it('keeps at least 2× the target (and under 3×), or declines', () => {
    expect(shrinkFactor({ width: 5312, height: 2988 }, { width: 256, height: 144 })).toBe(10);
    expect(shrinkFactor({ width: 2988, height: 2988 }, { width: 256, height: 256 })).toBe(5);
    expect(shrinkFactor({ width: 512, height: 512 }, { width: 128, height: 128 })).toBe(2);
    expect(shrinkFactor({ width: 512, height: 512 }, { width: 256, height: 256 })).toBe(1);
    expect(shrinkFactor({ width: 100, height: 100 }, { width: 400, height: 400 })).toBe(1);
    for (let src = 64; src < 5000; src += 97) {
      const k = shrinkFactor({ width: src, height: src }, { width: 16, height: 16 });
      if (k > 1) {
        expect(src / k / 16).toBeGreaterThanOrEqual(2);
        expect(src / k / 16).toBeLessThan(3);
      }
    }
  });
});

describe('cropAndShrink', () => {
  it('averages k×k blocks', () => {
    // 4×2 image, k = 2: two output pixels averaging their 2×2 blocks.
    const d = new Uint8ClampedArray([0, 0, 0, 255, 100, 0, 0, 255, 10, 10, 10, 255, 30, 30, 30, 255, 0, 0, 0, 255, 100, 0, 0, 255, 50, 50, 50, 255, 70, 70, 70, 255]);
    const out = cropAndShrink(toImageData(d, 4, 2), { x: 0, y: 0, width: 4, height: 2 }, 2, false);
    expect([out.width, out.height]).toEqual([2, 1]);
    expect(Array.from(out.data)).toEqual([50, 0, 0, 255, 40, 40, 40, 255]);
  });

  it('keeps a uniform colour exact and trims a remainder symmetrically', () => {
    const img = solid(103, 50, [12, 200, 99, 255]);
    const out = cropAndShrink(img, { x: 0, y: 0, width: 103, height: 50 }, 4, false);
    expect([out.width, out.height]).toEqual([25, 12]);
    for (let i = 0; i < out.data.length; i += 4) expect(Array.from(out.data.subarray(i, i + 4))).toEqual([12, 200, 99, 255]);
  });

  it('crops without shrinking when the factor is 1', () => {
    const img = solid(10, 4, [255, 0, 0, 255], [0, 0, 255, 255]);
    const out = cropAndShrink(img, { x: 5, y: 1, width: 5, height: 2 }, 1, false);
    expect([out.width, out.height]).toEqual([5, 2]);
    expect(pixel(out, 0, 0)).toEqual([0, 0, 255, 255]);
    expect(out.data.buffer.byteLength).toBe(5 * 2 * 4); // owns its buffer (the codecs read .buffer whole)
  });

  it('weights colours by alpha so hidden colours of transparent pixels do not bleed', () => {
    // Left: transparent "green"; right: opaque red. The 2×2 average must be pure red at half alpha.
    const img = solid(2, 2, [0, 255, 0, 0], [255, 0, 0, 255]);
    const out = cropAndShrink(img, { x: 0, y: 0, width: 2, height: 2 }, 2, true);
    expect(pixel(out, 0, 0)).toEqual([255, 0, 0, 128]);
    const clear = cropAndShrink(solid(2, 2, [9, 9, 9, 0]), { x: 0, y: 0, width: 2, height: 2 }, 2, true);
    expect(pixel(clear, 0, 0)).toEqual([0, 0, 0, 0]);
  });
});

describe('alpha helpers and letterbox', () => {
  it('usesAlpha is false for an opaque RGBA image', () => {
    expect(usesAlpha(solid(3, 3, [1, 2, 3, 255]))).toBe(false);
    expect(usesAlpha(solid(3, 3, [1, 2, 3, 255], [1, 2, 3, 254]))).toBe(true);
  });

  it('flattenAlpha composites onto white', () => {
    const f = flattenAlpha(solid(2, 1, [0, 0, 0, 0], [0, 0, 0, 128]));
    expect(pixel(f, 0, 0)).toEqual([255, 255, 255, 255]);
    expect(pixel(f, 1, 0)).toEqual([127, 127, 127, 255]);
  });

  it('letterbox centres the image on a transparent canvas', () => {
    const l = letterbox(solid(2, 2, [255, 0, 0, 255]), 4, 2, 1, 0);
    expect([l.width, l.height]).toEqual([4, 2]);
    expect(pixel(l, 0, 0)).toEqual([0, 0, 0, 0]);
    expect(pixel(l, 1, 1)).toEqual([255, 0, 0, 255]);
    expect(pixel(l, 3, 1)).toEqual([0, 0, 0, 0]);
  });
});
