/**
 * The opaque resize path (codecs.ts → wasm/jpeg-scaled/src/fit.rs): a region of a photo,
 * box-shrunk then lanczos3, must be the picture sharp makes of the same region (libvips'
 * lanczos3 in sRGB space), at exactly the size asked for, whatever the region's offset.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { toImageData } from '../../src/render/image-data.js';
import { codecs } from './helpers.js';

async function photo(): Promise<ImageData> {
  const { data, info } = await sharp(await readFile('samples/demo/seeding.jpg'))
    .resize(1200)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return toImageData(new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), info.width, info.height);
}

function meanAbsDiff(a: Uint8ClampedArray, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) if (i % 4 !== 3) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / ((a.length / 4) * 3);
}

describe('opaque resize (fast_image_resize in jpeg_scaled.wasm)', () => {
  for (const [factor, side] of [
    [1, 512],
    [2, 256],
    [4, 96],
    [7, 64],
  ] as const) {
    it(`a 600×600 region at (300, 40), box ×${factor} then lanczos3 to ${side}², is sharp's picture of that region`, async () => {
      const image = await photo();
      const region = { x: 300, y: 40, width: 600, height: 600 };
      const out = await (await codecs()).resize(image, region, factor, side, side, false);
      expect([out.width, out.height]).toEqual([side, side]);
      expect(out.data.length).toBe(side * side * 4);
      const reference = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 4 } })
        .extract({ left: region.x, top: region.y, width: region.width, height: region.height })
        .resize(side, side, { kernel: 'lanczos3', fit: 'fill' })
        .raw()
        .toBuffer();
      expect(meanAbsDiff(out.data, reference)).toBeLessThan(2.5);
      for (let i = 3; i < out.data.length; i += 4) if (out.data[i] !== 255) throw new Error(`alpha ${out.data[i]} at ${i}`);
    });
  }

  it('refuses a region that does not match its bytes, and the next resize works', async () => {
    const c = await codecs();
    const image = toImageData(new Uint8ClampedArray(40 * 40 * 4).fill(128), 40, 40);
    await expect(c.resize(image, { x: 0, y: 0, width: 40, height: 40 }, 1, 0, 10, false)).rejects.toThrow(/cannot resize/);
    const out = await c.resize(image, { x: 0, y: 0, width: 40, height: 40 }, 2, 10, 10, false);
    expect(out.data[0]).toBe(128);
  });
});
