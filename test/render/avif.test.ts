/**
 * AVIF: output (fmt=avif) decoded by sharp (libheif), and AVIF sources decoded by ours.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sniffImage } from '../../src/core/image/sniff.js';
import { decodeSource } from '../../src/render/decode-source.js';
import { toImageData } from '../../src/render/image-data.js';
import { codecs, meanAbsError, renderer, sample, variant } from './helpers.js';

async function sharpRgba(bytes: Uint8Array): Promise<ImageData> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return toImageData(new Uint8ClampedArray(data), info.width, info.height);
}

const worst = (mae: number[]) => Math.max(...mae.slice(0, 3));

describe('AVIF output', () => {
  it('renders AVIF that sharp decodes to the picture (as close to the lossless render as WebP), in fewer bytes', async () => {
    const r = await renderer();
    for (const [file, size] of [
      ['hopper.jpg', 128],
      ['seeding.jpg', 256],
      ['plant.png', 64],
    ] as const) {
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

describe('AVIF sources', () => {
  const limits = { maxSourceBytes: 50_000_000, maxSourcePixels: 50_000_000 };

  it('sniffs and decodes an AVIF (as sharp writes it) to sharp’s pixels, and renders it', async () => {
    const c = await codecs();
    for (const [file, chroma] of [
      ['seeding.jpg', '4:2:0'],
      ['hopper.jpg', '4:4:4'],
    ] as const) {
      const avif = new Uint8Array(await sharp(sample(file)).resize(300, 200, { fit: 'fill' }).avif({ quality: 80, chromaSubsampling: chroma }).toBuffer());
      expect(sniffImage(avif)).toEqual({ format: 'avif', width: 300, height: 200, hasAlpha: false, orientation: 1 });
      const { image } = await decodeSource(c, avif, limits);
      expect([image.width, image.height]).toEqual([300, 200]);
      expect(worst(meanAbsError(image, await sharpRgba(avif)))).toBeLessThanOrEqual(1.5);
    }
    const r = await renderer();
    const avif = new Uint8Array(await sharp(sample('seeding.jpg')).resize(600).avif({ quality: 80 }).toBuffer());
    const out = await r.render(avif, variant(128, 128, 'cover', 'webp', 75));
    expect((await sharp(out.body).metadata()).width).toBe(128);
  });

  it('keeps an AVIF’s alpha', async () => {
    const c = await codecs();
    const avif = new Uint8Array(await sharp(sample('mysha.png')).resize(120).avif({ quality: 90 }).toBuffer());
    const info = sniffImage(avif)!;
    expect([info.format, info.hasAlpha]).toEqual(['avif', true]);
    const { image } = await decodeSource(c, avif, limits);
    const mae = meanAbsError(image, await sharpRgba(avif));
    expect(mae[3]).toBeLessThanOrEqual(1);
    expect(worst(mae)).toBeLessThanOrEqual(2);
  });

  it('refuses a damaged AVIF with 422 DECODE_FAILED and decodes the next one', async () => {
    const c = await codecs();
    const avif = new Uint8Array(await sharp(sample('hopper.jpg')).resize(200).avif().toBuffer());
    const cut = avif.slice(0, Math.floor(avif.length * 0.6));
    await expect(decodeSource(c, cut, limits)).rejects.toMatchObject({ status: 422, code: 'DECODE_FAILED' });
    expect((await decodeSource(c, avif, limits)).image.width).toBe(200);
  });

  it('shows an AVIF with its irot rotation, as sharp (libheif) does', async () => {
    const rotated = new Uint8Array(await sharp(sample('hopper.jpg')).resize(96, 48, { fit: 'fill' }).withMetadata({ orientation: 6 }).avif({ quality: 90 }).toBuffer());
    const info = sniffImage(rotated)!;
    expect([info.width, info.height, info.orientation]).toEqual([96, 48, 6]);
    const r = await renderer();
    const out = await sharpRgba((await r.render(rotated, variant(48, 96, 'cover', 'png', 100))).body);
    const expected = await sharpRgba(new Uint8Array(await sharp(rotated).png().toBuffer()));
    expect([expected.width, expected.height]).toEqual([48, 96]);
    expect(worst(meanAbsError(out, expected))).toBeLessThan(3);
  });

  it('refuses an AVIF past the decode budget (20 bytes a pixel) before decoding it', async () => {
    const c = await codecs();
    const avif = new Uint8Array(await sharp(sample('hopper.jpg')).resize(64).avif().toBuffer());
    const at = Buffer.from(avif).indexOf('ispe', 0, 'latin1');
    const big = avif.slice();
    new DataView(big.buffer).setUint32(at + 8, 4000);
    new DataView(big.buffer).setUint32(at + 12, 3500); // 14 MP: under maxSourcePixels, over the budget
    expect(sniffImage(big)).toMatchObject({ width: 4000, height: 3500 });
    await expect(decodeSource(c, big, limits)).rejects.toMatchObject({ status: 422, code: 'SOURCE_TOO_LARGE', message: expect.stringMatching(/AVIF sources decode at full size/) });
  });

  it('applies an AVIF’s ICC profile', async () => {
    const c = await codecs();
    const avif = new Uint8Array(await sharp(sample('hopper.jpg')).resize(128).withIccProfile('p3').avif({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer());
    const { image } = await decodeSource(c, avif, limits);
    const reference = await sharpRgba(new Uint8Array(await sharp(avif).toColourspace('srgb').png().toBuffer()));
    expect(worst(meanAbsError(image, reference))).toBeLessThanOrEqual(1.5);
    const ignored = await sharpRgba(new Uint8Array(await sharp(avif, { ignoreIcc: true }).toColourspace('srgb').png().toBuffer()));
    expect(worst(meanAbsError(ignored, reference))).toBeGreaterThan(3);
  });
});
