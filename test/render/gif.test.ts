/**
 * GIF sources: stills and animations (their first frame) decode to sharp's pixels and render;
 * damaged ones are refused. Animated WebP output: animation.test.ts.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sniffImage } from '../../src/core/image/sniff.js';
import { decodeSource } from '../../src/render/decode-source.js';
import { toImageData } from '../../src/render/image-data.js';
import { codecs, decodeOutput, meanAbsError, renderer, sample, variant } from './helpers.js';

const limits = { maxSourceBytes: 50_000_000, maxSourcePixels: 50_000_000 };

/** sharp's RGBA of the first frame. */
async function sharpRgba(bytes: Uint8Array): Promise<ImageData> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return toImageData(new Uint8ClampedArray(data), info.width, info.height);
}

const frame = (file: string) => sharp(sample(file)).resize(100, 80, { fit: 'fill' }).png().toBuffer();

describe('GIF sources', () => {
  it('decodes a still GIF to sharp’s pixels and renders it', async () => {
    const c = await codecs();
    const gif = new Uint8Array(
      await sharp(await frame('hopper.jpg'))
        .gif()
        .toBuffer(),
    );
    expect(sniffImage(gif)).toEqual({ format: 'gif', width: 100, height: 80, hasAlpha: false, orientation: 1 });
    const { image } = await decodeSource(c, gif, limits);
    expect(meanAbsError(image, await sharpRgba(gif))).toEqual([0, 0, 0, 0]);
    const r = await renderer();
    for (const format of ['webp', 'jpeg', 'png'] as const) {
      const out = await decodeOutput((await r.render(gif, variant(64, 64, 'cover', format, 90))).body);
      expect([out.width, out.height]).toEqual([64, 64]);
    }
  });

  it('keeps a transparent GIF’s alpha', async () => {
    const c = await codecs();
    const gif = new Uint8Array(await sharp(sample('mysha.png')).resize(90).gif().toBuffer());
    expect(sniffImage(gif)?.hasAlpha).toBe(true);
    const { image } = await decodeSource(c, gif, limits);
    const theirs = await sharpRgba(gif);
    // Same alpha everywhere, same colour wherever a pixel shows (hidden colours may differ).
    let differ = 0;
    for (let i = 0; i < image.data.length; i += 4) {
      if (image.data[i + 3] !== theirs.data[i + 3]) differ++;
      else if (image.data[i + 3] !== 0 && [0, 1, 2].some((k) => image.data[i + k] !== theirs.data[i + k])) differ++;
    }
    expect(differ).toBe(0);
    const transparent = Array.from({ length: image.width * image.height }, (_, i) => image.data[i * 4 + 3]).filter((a) => a === 0).length;
    expect(transparent).toBeGreaterThan(100);
  });

  it('decodes an animated GIF as its first frame, which a PNG render shows', async () => {
    const c = await codecs();
    const [a, b] = [await frame('hopper.jpg'), await frame('plant.png')];
    const gif = new Uint8Array(
      await sharp([a, b, a], { join: { animated: true } })
        .gif({ delay: [100, 200, 300], loop: 0 })
        .toBuffer(),
    );
    expect((await sharp(gif, { pages: -1 }).metadata()).pages).toBe(3);
    const { image } = await decodeSource(c, gif, limits);
    const first = await sharpRgba(gif);
    expect(meanAbsError(image, first)).toEqual([0, 0, 0, 0]);
    // And not the second frame: the plant is far from the hopper.
    const second = await sharpRgba(new Uint8Array(await sharp(gif, { page: 1 }).png().toBuffer()));
    expect(Math.max(...meanAbsError(image, second).slice(0, 3))).toBeGreaterThan(20);
    const r = await renderer();
    const out = await decodeOutput((await r.render(gif, variant(100, 80, 'cover', 'png', 100))).body);
    expect(Math.max(...meanAbsError(out, first).slice(0, 3))).toBeLessThan(1);
  });

  it('refuses a cut GIF with 422 DECODE_FAILED, and decodes the next one', async () => {
    const c = await codecs();
    const gif = new Uint8Array(
      await sharp(await frame('seeding.jpg'))
        .gif()
        .toBuffer(),
    );
    const cut = gif.slice(0, Math.floor(gif.length / 2));
    await expect(decodeSource(c, cut, limits)).rejects.toMatchObject({ status: 422, code: 'DECODE_FAILED' });
    expect((await decodeSource(c, gif, limits)).image.width).toBe(100);
  });

  it('refuses a GIF whose screen is past the pixel limit before decoding', async () => {
    const c = await codecs();
    const gif = new Uint8Array(
      await sharp(await frame('hopper.jpg'))
        .gif()
        .toBuffer(),
    );
    const huge = gif.slice();
    huge.set([0x40, 0x9c, 0x40, 0x9c], 6); // 40000×40000 logical screen
    await expect(decodeSource(c, huge, limits)).rejects.toMatchObject({ status: 422, code: 'SOURCE_TOO_LARGE' });
  });
});

describe('animated WebP sources', () => {
  it('decode as their first frame, which a JPEG render shows (libwebp here decodes stills only: this was 422)', async () => {
    const c = await codecs();
    const [a, b] = [await frame('hopper.jpg'), await frame('plant.png')];
    const webp = new Uint8Array(
      await sharp([a, b, a], { join: { animated: true } })
        .webp({ delay: [100, 200, 300], loop: 0, lossless: true })
        .toBuffer(),
    );
    expect((await sharp(webp, { pages: -1 }).metadata()).pages).toBe(3);
    const info = sniffImage(webp)!;
    expect([info.format, info.width, info.height]).toEqual(['webp', 100, 80]);
    const { image } = await decodeSource(c, webp, limits);
    expect(meanAbsError(image, await sharpRgba(webp))).toEqual([0, 0, 0, 0]);
    const lossy = new Uint8Array(
      await sharp([a, b], { join: { animated: true } })
        .webp({ quality: 90 })
        .toBuffer(),
    );
    const decoded = (await decodeSource(c, lossy, limits)).image;
    expect(Math.max(...meanAbsError(decoded, await sharpRgba(lossy)).slice(0, 3))).toBeLessThan(2);
    const r = await renderer();
    const out = await decodeOutput((await r.render(lossy, variant(64, 64, 'cover', 'jpeg', 90))).body);
    expect([out.width, out.height]).toEqual([64, 64]);
  });
});
