import { describe, expect, it } from 'vitest';
import { sniffImage } from '../../../src/core/image/sniff.js';
import type { Fit, Format, Variant } from '../../../src/core/variant.js';
import { loadCodecModules } from '../../../src/hosts/node/load-wasm.js';
import { createCodecs } from '../../../src/render/codecs.js';
import { avatarPixels, fallbackSize, initialsOf } from '../../../src/render/fallback/avatar-pixels.js';
import { createGeneratedFallback } from '../../../src/render/fallback/create-fallback.js';
import { decodeToRgba } from '../../support/pixels.js';

const variant = (id: string, width: number, height: number, format: Format = 'webp', fit: Fit = 'cover'): Variant => ({
  tenant: 'demo',
  id,
  width,
  height,
  fit,
  format,
  quality: 75,
  version: '',
  negotiated: false,
});

/** Mean absolute difference per channel, 0..255. */
function meanDiff(a: ImageData, b: ImageData): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

describe('generated fallback: pixels', () => {
  it('takes up to two initials from the alphanumeric runs of the id', () => {
    expect(initialsOf('ada-lovelace')).toBe('AL');
    expect(initialsOf('u-42')).toBe('U4');
    expect(initialsOf('hopper')).toBe('H');
    expect(initialsOf('j.r.r.tolkien')).toBe('JR');
    expect(initialsOf('_-_')).toBe('?');
  });

  it('is a pure function of the id: same id, same pixels', () => {
    expect(avatarPixels('ada-lovelace', 64, 64).data).toEqual(avatarPixels('ada-lovelace', 64, 64).data);
  });

  it('differs between ids, also when the initials are the same', () => {
    const a = avatarPixels('jane-doe', 64, 64);
    expect(meanDiff(a, avatarPixels('john-doe', 64, 64))).toBeGreaterThan(10);
    expect(meanDiff(a, avatarPixels('ada-lovelace', 64, 64))).toBeGreaterThan(10);
  });

  it('draws opaque white initials in the middle on a coloured background', () => {
    const img = avatarPixels('hopper', 100, 100);
    const at = (x: number, y: number) => [...img.data.subarray((y * 100 + x) * 4, (y * 100 + x) * 4 + 4)];
    expect(new Set(Array.from({ length: img.data.length / 4 }, (_, i) => img.data[i * 4 + 3]))).toEqual(new Set([255]));
    const corner = at(2, 2);
    expect(Math.max(...corner.slice(0, 3)) - Math.min(...corner.slice(0, 3))).toBeGreaterThan(30); // a colour, not grey
    // 'H' has a full-height left stem: some pixel on the middle row is (near) white.
    const row = Array.from({ length: 100 }, (_, x) => at(x, 50));
    expect(row.some(([r, g, b]) => r! > 240 && g! > 240 && b! > 240)).toBe(true);
  });

  it('fills the box; a free side follows the other; inside gives the largest square', () => {
    expect(fallbackSize({ width: 128, height: 0, fit: 'inside' })).toEqual({ width: 128, height: 128 });
    expect(fallbackSize({ width: 0, height: 96, fit: 'inside' })).toEqual({ width: 96, height: 96 });
    expect(fallbackSize({ width: 512, height: 256, fit: 'cover' })).toEqual({ width: 512, height: 256 });
    expect(fallbackSize({ width: 512, height: 256, fit: 'contain' })).toEqual({ width: 512, height: 256 });
    expect(fallbackSize({ width: 512, height: 256, fit: 'inside' })).toEqual({ width: 256, height: 256 });
    expect(() => avatarPixels('x', 0, 10)).toThrow(RangeError);
  });
});

describe('generated fallback: encoded through the codecs', () => {
  const generate = loadCodecModules().then((m) => createGeneratedFallback(createCodecs(m)));

  it('encodes each format at the variant size, byte-identical for the same id', async () => {
    const fallback = await generate;
    for (const [format, w, h] of [
      ['webp', 96, 96],
      ['jpeg', 512, 256],
      ['png', 48, 0],
    ] as const) {
      const body = await fallback(variant('ada-lovelace', w, h, format));
      expect(sniffImage(body)).toMatchObject({ format, width: w, height: h || w });
      expect(await fallback(variant('ada-lovelace', w, h, format))).toEqual(body);
    }
  });

  it('decodes to the drawn pixels (within lossy tolerance), and ids stay apart after encoding', async () => {
    const fallback = await generate;
    const ada = await decodeToRgba(await fallback(variant('ada-lovelace', 64, 64, 'webp')));
    expect(meanDiff(ada, avatarPixels('ada-lovelace', 64, 64))).toBeLessThan(4);
    const png = await decodeToRgba(await fallback(variant('ada-lovelace', 64, 64, 'png')));
    expect(meanDiff(png, avatarPixels('ada-lovelace', 64, 64))).toBe(0);
    const jane = await decodeToRgba(await fallback(variant('jane-doe', 64, 64, 'webp')));
    expect(meanDiff(ada, jane)).toBeGreaterThan(10);
  });
});
