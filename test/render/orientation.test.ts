import { describe, expect, it } from 'vitest';
import { toImageData } from '../../src/render/image-data.js';
import { applyOrientation } from '../../src/render/orientation.js';

/** The EXIF definitions, written the slow obvious way: where does displayed (x, y) come from? */
function reference(img: ImageData, o: number): ImageData {
  const { width: w, height: h } = img;
  const t = o >= 5;
  const ow = t ? h : w;
  const oh = t ? w : h;
  const out = new Uint8ClampedArray(ow * oh * 4);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const [sx, sy] = {
        1: [x, y],
        2: [w - 1 - x, y], // mirror horizontal
        3: [w - 1 - x, h - 1 - y], // rotate 180
        4: [x, h - 1 - y], // mirror vertical
        5: [y, x], // mirror horizontal + rotate 270 CW
        6: [y, h - 1 - x], // rotate 90 CW
        7: [w - 1 - y, h - 1 - x], // mirror horizontal + rotate 90 CW
        8: [w - 1 - y, x], // rotate 270 CW
      }[o] as [number, number];
      out.set(img.data.subarray((sy * w + sx) * 4, (sy * w + sx) * 4 + 4), (y * ow + x) * 4);
    }
  }
  return toImageData(out, ow, oh);
}

describe('applyOrientation', () => {
  const w = 5;
  const h = 3;
  const img = toImageData(
    new Uint8ClampedArray(w * h * 4).map((_, i) => (i * 37) & 255),
    w,
    h,
  );

  for (let o = 1; o <= 8; o++) {
    it(`orientation ${o} matches the EXIF definition`, () => {
      const got = applyOrientation(img, o);
      const want = reference(img, o);
      expect([got.width, got.height]).toEqual([want.width, want.height]);
      expect(Array.from(got.data)).toEqual(Array.from(want.data));
    });
  }

  it('orientation 6 puts the top-left corner at the top-right', () => {
    const marked = toImageData(new Uint8ClampedArray(w * h * 4), w, h);
    marked.data.set([255, 0, 0, 255], 0);
    const r = applyOrientation(marked, 6);
    expect(Array.from(r.data.subarray((0 * r.width + r.width - 1) * 4, (0 * r.width + r.width) * 4))).toEqual([255, 0, 0, 255]);
  });

  it('leaves out-of-range orientations alone', () => {
    expect(applyOrientation(img, 0)).toBe(img);
    expect(applyOrientation(img, 9)).toBe(img);
  });
});
