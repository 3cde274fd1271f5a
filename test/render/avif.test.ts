/**
 * AVIF: output (fmt=avif) decoded by sharp (libheif), and AVIF sources decoded by ours.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sniffImage } from '../../src/core/image/sniff.js';
import { toImageData } from '../../src/render/image-data.js';
import { meanAbsError, renderer, sample, variant } from './helpers.js';

async function sharpRgba(bytes: Uint8Array): Promise<ImageData> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return toImageData(new Uint8ClampedArray(data), info.width, info.height);
}

const worst = (mae: number[]) => Math.max(...mae.slice(0, 3));

describe('AVIF output', () => {
  it('renders AVIF that sharp decodes to the picture (as close to the lossless render as WebP), in fewer bytes', async () => {
    const r = await renderer();
    for (const [file, size] of [['hopper.jpg', 128], ['seeding.jpg', 256], ['plant.png', 64]] as const) {
      const avif = await r.render(sample(file), variant(size, size, 'cover', 'avif', 75));
      const webp = await r.render(sample(file), variant(size, size, 'cover', 'webp', 75));
      const meta = await sharp(avif.body).metadata();
      expect(meta.format).toBe('heif');
      expect(meta.compression).toBe('av1');
      expect([meta.width, meta.height]).toEqual([size, size]);
      expect(avif.body.length).toBeLessThan(webp.body.length);
      const lossless = await sharpRgba((await r.render(sample(file), variant(size, size, 'cover', 'png', 100))).body);
      const avifError = worst(meanAbsError(await sharpRgba(avif.body), lossless));
      // (plant.png at 64 px is nearly all edges: WebP is 16.7 levels off there, AVIF 10.3.)
      expect(avifError).toBeLessThan(worst(meanAbsError(await sharpRgba(webp.body), lossless)) * 1.2 + 0.5);
    }
  });

  it('keeps alpha', async () => {
    const r = await renderer();
    const out = await r.render(sample('mysha.png'), variant(96, 96, 'contain', 'avif', 75));
    const meta = await sharp(out.body).metadata();
    expect(meta.hasAlpha).toBe(true);
    const png = await r.render(sample('mysha.png'), variant(96, 96, 'contain', 'png', 100));
    const [a, b] = [await sharpRgba(out.body), await sharpRgba(png.body)];
    expect(meanAbsError(a, b)[3]).toBeLessThan(3);
  });
});
