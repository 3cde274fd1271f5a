import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/core/errors.js';
import { checkSourceLimits, exifOrientation, orientedSize, sniffImage } from '../../../src/core/image/sniff.js';

const sample = (name: string) => new Uint8Array(readFileSync(new URL(`../../../samples/demo/${name}`, import.meta.url)));

const SAMPLES = [
  ['hopper.jpg', 'jpeg', 512, 512, false],
  ['free.jpg', 'jpeg', 2880, 2160, false],
  ['seeding.jpg', 'jpeg', 5312, 2988, false],
  ['astronaut.png', 'png', 512, 512, false],
  ['mysha.png', 'png', 256, 256, true],
  ['plant.png', 'png', 500, 333, true],
  ['mysha-webp.webp', 'webp', 256, 256, true],
] as const;

const bytes = (...parts: (number[] | string)[]): Uint8Array => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
const u32be = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const u32le = (n: number) => u32be(n).reverse();
const u16be = (n: number) => [n >> 8, n & 255];

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** A PNG header (CRCs are not checked by the sniffer; zeros stand in). */
const png = (w: number, h: number, colourType: number, ...extraChunks: number[][]) =>
  bytes(PNG_SIG, u32be(13), 'IHDR', u32be(w), u32be(h), [8, colourType, 0, 0, 0], u32be(0), ...extraChunks, u32be(0), 'IDAT', u32be(0));
const chunk = (type: string, data: number[]) => [...u32be(data.length), ...[...type].map((c) => c.charCodeAt(0)), ...data, 0, 0, 0, 0];

/** Baseline SOF0 for a w×h 3-component JPEG, after SOI and optional segments. */
const jpeg = (w: number, h: number, ...segments: number[][]) =>
  bytes([0xff, 0xd8], ...segments, [0xff, 0xc0], u16be(17), [8], u16be(h), u16be(w), [3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1], [0xff, 0xda, 0, 2]);
const tiffWithOrientation = (o: number, le: boolean) =>
  le ? bytes('II', [42, 0], u32le(8), [1, 0], [0x12, 0x01, 3, 0], u32le(1), [o, 0, 0, 0], u32le(0)) : bytes('MM', [0, 42], u32be(8), [0, 1], [0x01, 0x12, 0, 3], u32be(1), [0, o, 0, 0], u32be(0));
const app1Exif = (o: number, le = false) => {
  const payload = [...bytes('Exif', [0, 0]), ...tiffWithOrientation(o, le)];
  return [0xff, 0xe1, ...u16be(payload.length + 2), ...payload];
};

const riff = (...chunks: number[][]) => {
  const body = chunks.flat();
  return bytes('RIFF', u32le(body.length + 4), 'WEBP', body);
};
const webpChunk = (type: string, data: number[]) => [...[...type].map((c) => c.charCodeAt(0)), ...u32le(data.length), ...data, ...(data.length & 1 ? [0] : [])];
const vp8x = (w: number, h: number, flags: number) => webpChunk('VP8X', [flags, 0, 0, 0, ...u32le(w - 1).slice(0, 3), ...u32le(h - 1).slice(0, 3)]);

describe('sniffImage on the sample photos', () => {
  for (const [name, format, width, height, hasAlpha] of SAMPLES) {
    it(`${name}: ${format} ${width}×${height}${hasAlpha ? ' with alpha' : ''}`, () => {
      expect(sniffImage(sample(name))).toEqual({ format, width, height, hasAlpha, orientation: 1 });
    });
  }

  it('never reports wrong dimensions for a truncated file: null or the full answer', () => {
    for (const [name] of SAMPLES) {
      const full = sniffImage(sample(name));
      const b = sample(name);
      for (let len = 0; len <= 1200; len += 7) {
        const got = sniffImage(b.subarray(0, len));
        if (got !== null) expect(got, `${name} cut at ${len}`).toEqual(full);
      }
      expect(sniffImage(b.subarray(0, 11))).toBeNull();
    }
  });
});

describe('sniffImage on garbage and edge cases', () => {
  it('returns null for non-images and random bytes', () => {
    expect(sniffImage(new Uint8Array(0))).toBeNull();
    expect(sniffImage(bytes('GIF89a', [1, 0, 1, 0, 0, 0, 0, 0]))).toBeNull();
    expect(sniffImage(bytes('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    let seed = 7;
    for (let n = 0; n < 200; n++) {
      const b = new Uint8Array(64).map(() => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 255);
      if (b[0] === 0xff || b[0] === 0x89 || b[0] === 0x52) continue;
      expect(sniffImage(b)).toBeNull();
    }
  });

  it('rejects a JPEG whose segments are garbage or that reaches SOS without a frame header', () => {
    expect(sniffImage(bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16], new Array(14).fill(0), [0x12, 0x34, 0, 0]))).toBeNull();
    expect(sniffImage(bytes([0xff, 0xd8, 0xff, 0xda, 0, 2], new Array(10).fill(0)))).toBeNull();
  });

  it('rejects zero dimensions', () => {
    expect(sniffImage(jpeg(0, 10))).toBeNull();
    expect(sniffImage(png(10, 0, 2))).toBeNull();
  });

  it('reads JPEG SOF2 (progressive) and skips fill bytes', () => {
    const b = jpeg(640, 480);
    b[b.indexOf(0xc0, 2)] = 0xc2;
    expect(sniffImage(b)).toMatchObject({ format: 'jpeg', width: 640, height: 480 });
    const filled = bytes([0xff, 0xd8, 0xff], [...jpeg(3, 2).subarray(2)]);
    expect(sniffImage(filled)).toMatchObject({ width: 3, height: 2 });
  });

  it('reads EXIF orientation from a JPEG APP1 segment, both byte orders', () => {
    for (let o = 1; o <= 8; o++) {
      expect(sniffImage(jpeg(40, 30, app1Exif(o)))?.orientation).toBe(o);
      expect(sniffImage(jpeg(40, 30, app1Exif(o, true)))?.orientation).toBe(o);
    }
    expect(sniffImage(jpeg(40, 30, app1Exif(9)))?.orientation).toBe(1);
    expect(sniffImage(jpeg(40, 30, app1Exif(0)))?.orientation).toBe(1);
    expect(exifOrientation(bytes('XX', [0, 42]))).toBe(1);
  });

  it('PNG alpha: colour types 4 and 6, or a tRNS chunk', () => {
    expect(sniffImage(png(3, 2, 2))?.hasAlpha).toBe(false);
    expect(sniffImage(png(3, 2, 3))?.hasAlpha).toBe(false);
    expect(sniffImage(png(3, 2, 4))?.hasAlpha).toBe(true);
    expect(sniffImage(png(3, 2, 6))?.hasAlpha).toBe(true);
    expect(sniffImage(png(3, 2, 3, chunk('PLTE', [0, 0, 0]), chunk('tRNS', [0])))?.hasAlpha).toBe(true);
    expect(sniffImage(png(3, 2, 2, chunk('eXIf', [...tiffWithOrientation(6, false)])))?.orientation).toBe(6);
  });

  it('WebP: VP8, VP8L with the alpha hint, VP8X canvas size, alpha flag and EXIF chunk', () => {
    const vp8 = riff(webpChunk('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, ...u16be(300).reverse(), ...u16be(200).reverse(), 0, 0]));
    expect(sniffImage(vp8)).toEqual({ format: 'webp', width: 300, height: 200, hasAlpha: false, orientation: 1 });
    const bits = (300 - 1) | ((200 - 1) << 14) | (1 << 28);
    expect(sniffImage(riff(webpChunk('VP8L', [0x2f, ...u32le(bits)])))).toEqual({ format: 'webp', width: 300, height: 200, hasAlpha: true, orientation: 1 });
    expect(sniffImage(riff(vp8x(5000, 3000, 0x10)))).toEqual({ format: 'webp', width: 5000, height: 3000, hasAlpha: true, orientation: 1 });
    const withExif = riff(vp8x(40, 30, 0x08), webpChunk('EXIF', [...tiffWithOrientation(8, true)]));
    expect(sniffImage(withExif)?.orientation).toBe(8);
    const prefixed = riff(vp8x(40, 30, 0x08), webpChunk('EXIF', [...bytes('Exif', [0, 0]), ...tiffWithOrientation(5, false)]));
    expect(sniffImage(prefixed)?.orientation).toBe(5);
    expect(sniffImage(riff(webpChunk('VP8 ', [0, 0, 0, 1, 2, 3, 0, 0, 0, 0])))).toBeNull();
    expect(sniffImage(riff(webpChunk('ANIM', [0, 0, 0, 0, 0, 0])))).toBeNull();
  });

  it('orientations 5–8 swap width and height for display', () => {
    expect(orientedSize({ width: 40, height: 30, orientation: 1 })).toEqual({ width: 40, height: 30 });
    expect(orientedSize({ width: 40, height: 30, orientation: 4 })).toEqual({ width: 40, height: 30 });
    for (const o of [5, 6, 7, 8]) expect(orientedSize({ width: 40, height: 30, orientation: o })).toEqual({ width: 30, height: 40 });
  });
});

describe('checkSourceLimits', () => {
  const limits = { maxSourceBytes: 1000, maxSourcePixels: 10_000 };
  const catchError = (f: () => void): HttpError => {
    try {
      f();
    } catch (e) {
      if (e instanceof HttpError) return e;
      throw e;
    }
    throw new Error('expected an HttpError');
  };

  it('passes a source within the limits', () => {
    const b = png(100, 100, 2);
    expect(() => checkSourceLimits(b, sniffImage(b), limits)).not.toThrow();
  });

  it('refuses too many bytes with 422 SOURCE_TOO_LARGE naming the limit', () => {
    const b = new Uint8Array(1001);
    b.set(png(10, 10, 2));
    const e = catchError(() => checkSourceLimits(b, sniffImage(b), limits));
    expect([e.status, e.code]).toEqual([422, 'SOURCE_TOO_LARGE']);
    expect(e.message).toContain('1000 bytes');
  });

  it('refuses too many pixels from the header alone (a tiny file claiming 20000×20000)', () => {
    const b = png(20000, 20000, 6);
    const e = catchError(() => checkSourceLimits(b, sniffImage(b), LIMIT_50MP));
    expect([e.status, e.code]).toEqual([422, 'SOURCE_TOO_LARGE']);
    expect(e.message).toContain('20000×20000');
    expect(e.message).toContain('50000000 pixels');
  });

  it('refuses unreadable sources with 422 UNSUPPORTED_FORMAT listing what is supported', () => {
    const e = catchError(() => checkSourceLimits(bytes('GIF89a'), null, limits));
    expect([e.status, e.code]).toEqual([422, 'UNSUPPORTED_FORMAT']);
    expect(e.message).toContain('supported sources: JPEG, PNG, WebP');
  });
});

const LIMIT_50MP = { maxSourceBytes: 25 * 1024 * 1024, maxSourcePixels: 50_000_000 };
