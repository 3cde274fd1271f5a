/**
 * Still WebPs decode with the project's libwebp build (wasm/webp_rgba.wasm: SIMD, and libwebp's
 * rescaler for shrink-on-load). What a user of the renderer would check: the pixels are the
 * picture libvips (sharp, which links the same libwebp) decodes, a reduced decode is that
 * picture shrunk (alpha kept), a DecodeInto sees the same pixels, and a damaged file is a
 * 422 that leaves the decoder working.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isHttpError } from '../../src/core/errors.js';
import { LIMIT_DEFAULTS } from '../../src/core/config/service-config.js';
import { decodeSource } from '../../src/render/decode-source.js';
import { codecs, sample } from './helpers.js';

const bytesOf = async (s: ReturnType<typeof sharp>) => new Uint8Array(await s.toBuffer());

/** Mean absolute difference per channel between two RGBA images of one size. */
function meanDiff(a: Uint8ClampedArray | Uint8Array, b: Uint8ClampedArray | Uint8Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

async function sharpRgba(input: Uint8Array, width?: number, height?: number): Promise<Buffer> {
  let s = sharp(input).ensureAlpha();
  if (width && height) s = s.resize(width, height, { fit: 'fill', kernel: 'linear' });
  return s.raw().toBuffer();
}

describe('still WebP decoding (wasm/webp_rgba.wasm)', () => {
  const photo = () => sharp(sample('free.jpg')).resize(1440, 1080); // a photo with detail
  it('decodes a lossy and a lossless WebP to the picture libvips decodes', async () => {
    const c = await codecs();
    for (const webp of [await bytesOf(photo().webp({ quality: 80 })), await bytesOf(photo().resize(360, 270).webp({ lossless: true }))]) {
      const image = await c.decode('webp', webp);
      const meta = await sharp(webp).metadata();
      expect([image.width, image.height]).toEqual([meta.width, meta.height]);
      expect(meanDiff(image.data, await sharpRgba(webp))).toBeLessThan(0.5);
    }
  });

  it('at 1/2, 1/4 and 1/8 gives ⌈w/d⌉×⌈h/d⌉ of the same picture, transparency kept', async () => {
    const c = await codecs();
    const opaque = await bytesOf(photo().webp({ quality: 80 }));
    // Left half transparent, right half opaque red, odd size (⌈⌉ rounding).
    const half = await sharp({ create: { width: 501, height: 333, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .composite([{ input: { create: { width: 251, height: 333, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }, left: 250, top: 0 }])
      .webp({ quality: 90, alphaQuality: 100 })
      .toBuffer();
    for (const d of [2, 4, 8] as const) {
      const image = await c.decode('webp', opaque, undefined, d);
      expect([image.width, image.height]).toEqual([1440 / d, 1080 / d]);
      // The same picture as libvips' full decode shrunk to that size (different filters: a few levels).
      expect(meanDiff(image.data, await sharpRgba(opaque, 1440 / d, 1080 / d))).toBeLessThan(4);
      const alpha = await c.decode('webp', new Uint8Array(half), undefined, d);
      expect([alpha.width, alpha.height]).toEqual([Math.ceil(501 / d), Math.ceil(333 / d)]);
      const at = (x: number, y: number) => Array.from(alpha.data.subarray((y * alpha.width + x) * 4, (y * alpha.width + x) * 4 + 4));
      expect(at(1, 1)[3]).toBe(0); // transparent side
      const [r, g, b, a] = at(alpha.width - 2, alpha.height - 2);
      expect([r! > 245, g! < 10, b! < 10, a]).toEqual([true, true, true, 255]);
    }
  });

  it('hands a DecodeInto the same pixels as a plain decode, read where the decoder left them', async () => {
    const c = await codecs();
    const webp = await bytesOf(photo().webp({ quality: 80 }));
    const plain = await c.decode('webp', webp);
    let seen: ImageData | undefined;
    const made = await c.decode('webp', webp, {
      width: plain.width,
      height: plain.height,
      use: (image) => {
        seen = new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
        return new ImageData(new Uint8ClampedArray(4), 1, 1);
      },
    });
    expect([made.width, made.height]).toEqual([1, 1]);
    expect(seen && meanDiff(seen.data, plain.data)).toBe(0);
  });

  it('refuses a cut or damaged WebP with 422 DECODE_FAILED and decodes the next one', async () => {
    const c = await codecs();
    const webp = await bytesOf(photo().webp({ quality: 80 }));
    const cut = webp.slice(0, Math.floor(webp.length / 3));
    const damaged = webp.slice();
    for (let i = 200; i < damaged.length; i += 97) damaged[i] = 0xff;
    for (const [bad, d] of [
      [cut, 1],
      [cut, 4],
      [damaged, 1],
      [damaged, 8],
    ] as const) {
      const err = await decodeSource(c, bad, LIMIT_DEFAULTS, { denominator: () => d }).catch((e: unknown) => e);
      expect(isHttpError(err) && [err.status, err.code]).toEqual([422, 'DECODE_FAILED']);
      const next = await decodeSource(c, webp, LIMIT_DEFAULTS, { denominator: () => 4 });
      expect([next.image.width, next.image.height, next.denominator]).toEqual([360, 270, 4]);
    }
  });
});
