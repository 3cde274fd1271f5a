/**
 * The focal point is in the displayed (EXIF-oriented) image; the crop runs on the stored pixels.
 * For every orientation, a marked spot near the edge of the shown photo must end up in a face
 * crop centred on it, and outside the centre crop.
 */
import { describe, expect, it } from 'vitest';
import { fitImage } from '../../src/render/fit-image.js';
import { toImageData } from '../../src/render/image-data.js';
import { applyOrientation, storedPoint } from '../../src/render/orientation.js';
import { codecs as makeCodecs } from './helpers.js';

/** 200×100 stored pixels, grey, with a white 12×12 block whose top-left corner is (170, 20). */
function marked(): ImageData {
  const w = 200;
  const h = 100;
  const d = new Uint8ClampedArray(w * h * 4).fill(90);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[(y * w + x) * 4 + 3] = 255;
  for (let y = 20; y < 32; y++) for (let x = 170; x < 182; x++) d.set([255, 255, 255, 255], (y * w + x) * 4);
  return toImageData(d, w, h);
}

/** Centre of the white block in an image, as fractions of its sides. */
function whiteCentre(img: ImageData): { x: number; y: number } | null {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.data[(y * img.width + x) * 4]! > 200) {
        sx += x + 0.5;
        sy += y + 0.5;
        n++;
      }
    }
  }
  return n ? { x: sx / n / img.width, y: sy / n / img.height } : null;
}

describe('focal crops under every EXIF orientation', () => {
  for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`orientation ${orientation}`, async () => {
      const codecs = await makeCodecs();
      const stored = marked();
      const shown = applyOrientation(stored, orientation);
      const focal = whiteCentre(shown)!;
      // The displayed point maps back onto the block in the stored pixels.
      const back = storedPoint(focal, orientation);
      expect(back.x * 200).toBeCloseTo(176, 0);
      expect(back.y * 100).toBeCloseTo(26, 0);

      const source = { hasAlpha: false, orientation };
      const box = { width: 40, height: 40, fit: 'cover' as const };
      const face = await fitImage(codecs, stored, source, { ...box, gravity: 'face', focal: { face: focal, saliency: null } }, { preShrink: true });
      const centre = await fitImage(codecs, stored, source, box, { preShrink: true });
      expect([face.image.width, face.image.height]).toEqual([40, 40]);
      expect(whiteCentre(face.image)).not.toBeNull();
      expect(whiteCentre(centre.image)).toBeNull();
    });
  }
});
