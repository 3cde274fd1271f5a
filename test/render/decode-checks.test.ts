/** The checks that refuse a source from its bytes alone, and the decode-memory estimate. */
import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { LIMIT_DEFAULTS } from '../../src/core/config/service-config.js';
import { isHttpError } from '../../src/core/errors.js';
import { sniffImage } from '../../src/core/image/sniff.js';
import { decodePeakBytes, decodeTraits, maxDecodablePixels } from '../../src/render/decode-peak.js';
import { checkSource } from '../../src/render/decode-source.js';
import { maxRenderablePixels, renderPeakBytes } from '../../src/render/render-memory.js';
import { jpegStructureProblem, MAX_JPEG_SCANS } from '../../src/render/jpeg-dc-scans.js';
import { codecs, sample, solid } from './helpers.js';

/** Byte offsets of every SOS marker (FF DA never occurs inside entropy-coded data). */
function scanStarts(jpeg: Uint8Array): number[] {
  const at: number[] = [];
  for (let i = Buffer.from(jpeg).indexOf(Buffer.from([0xff, 0xda])); i !== -1; i = Buffer.from(jpeg).indexOf(Buffer.from([0xff, 0xda]), i + 2)) at.push(i);
  return at;
}

/** The file with its last scan repeated so that it has `total` scans. */
function withScans(jpeg: Uint8Array, total: number): Uint8Array {
  const starts = scanStarts(jpeg);
  const last = starts[starts.length - 1] as number;
  const scan = jpeg.subarray(last, jpeg.length - 2);
  const parts = [jpeg.subarray(0, last), ...Array.from({ length: total - starts.length + 1 }, () => scan), new Uint8Array([0xff, 0xd9])];
  return Buffer.concat(parts);
}

describe('jpegStructureProblem', () => {
  it('accepts the sample JPEGs and what libjpeg-turbo (sharp) and mozjpeg write, baseline and progressive', async () => {
    const files = [sample('hopper.jpg'), sample('free.jpg'), sample('seeding.jpg')];
    const photo = sharp(sample('free.jpg')).resize(400, 300);
    files.push(new Uint8Array(await photo.clone().jpeg({ progressive: true }).toBuffer()));
    files.push(new Uint8Array(await photo.clone().jpeg({ progressive: true, mozjpeg: true }).toBuffer()));
    files.push(new Uint8Array(await photo.clone().grayscale().jpeg({ progressive: true }).toBuffer()));
    files.push(await (await codecs()).encode('jpeg', solid(64, 48, [200, 30, 30, 255]), 80));
    for (const [i, f] of files.entries()) expect(jpegStructureProblem(f), `file ${i}`).toBeNull();
  });

  it(`allows ${MAX_JPEG_SCANS} scans and refuses one more`, async () => {
    const jpeg = new Uint8Array(await sharp(sample('hopper.jpg')).jpeg({ progressive: true }).toBuffer());
    expect(jpegStructureProblem(withScans(jpeg, MAX_JPEG_SCANS))).toBeNull();
    expect(jpegStructureProblem(withScans(jpeg, MAX_JPEG_SCANS + 1))).toMatch(/more than 100 scans/);
  });

  it('refuses a progressive file whose last scans are missing, even with its end marker put back', async () => {
    const jpeg = new Uint8Array(await sharp(sample('hopper.jpg')).jpeg({ progressive: true }).toBuffer());
    const starts = scanStarts(jpeg);
    for (const cut of starts.slice(1)) {
      expect(jpegStructureProblem(Buffer.concat([jpeg.subarray(0, cut), new Uint8Array([0xff, 0xd9])]))).toMatch(/incomplete/);
      expect(jpegStructureProblem(jpeg.subarray(0, cut))).toMatch(/truncated/);
    }
  });

  it('tolerates stray bytes between segments, as libjpeg does', () => {
    const jpeg = sample('hopper.jpg');
    const eoi = jpeg.length - 2;
    const padded = Buffer.concat([jpeg.subarray(0, eoi), new Uint8Array([0x00, 0x12, 0x00]), jpeg.subarray(eoi)]);
    expect(jpegStructureProblem(padded)).toBeNull();
  });
});

describe('decodePeakBytes and the PNG/WebP budget', () => {
  it('grows with the pixels, shrinks with the JPEG scale, and counts the file', () => {
    const jpeg = { format: 'jpeg' as const, width: 5312, height: 2988 };
    expect(decodePeakBytes(jpeg, 8)).toBeLessThan(decodePeakBytes(jpeg, 2));
    expect(decodePeakBytes(jpeg, 2)).toBeLessThan(decodePeakBytes(jpeg, 1));
    expect(decodePeakBytes({ format: 'png', width: 100, height: 100 }, 1, 5_000_000)).toBe(decodePeakBytes({ format: 'png', width: 100, height: 100 }) + 5_000_000);
    // A PNG takes the same at any "denominator": it always decodes at full size.
    expect(decodePeakBytes({ format: 'png', width: 4000, height: 3000 }, 8)).toBe(decodePeakBytes({ format: 'png', width: 4000, height: 3000 }, 1));
  });

  it('decodeTraits reads what decides the memory: JPEG progression and sampling, WebP lossless or lossy with alpha', async () => {
    const traits = (b: Uint8Array) => decodeTraits(b, sniffImage(b)!);
    expect(traits(sample('seeding.jpg'))).toEqual({ progressive: true, samplesPerPixel: 1.5 });
    expect(traits(sample('free.jpg'))).toEqual({ progressive: false, samplesPerPixel: 3 });
    const photo = sharp(sample('plant.png')).resize(64, 48);
    expect(traits(new Uint8Array(await photo.clone().flatten().grayscale().toColourspace('b-w').jpeg().toBuffer()))).toEqual({ progressive: false, samplesPerPixel: 1 });
    expect(traits(new Uint8Array(await photo.clone().webp({ lossless: true }).toBuffer()))).toEqual({ lossless: true, animated: false });
    expect(traits(new Uint8Array(await photo.clone().webp().toBuffer()))).toEqual({ lossless: false, alpha: true, animated: false });
    expect(traits(new Uint8Array(await photo.clone().flatten().webp().toBuffer()))).toEqual({ lossless: false, alpha: false, animated: false });
    const frames = [await photo.clone().flatten().png().toBuffer(), await photo.clone().flatten().negate().png().toBuffer()];
    expect(
      traits(
        new Uint8Array(
          await sharp(frames, { join: { animated: true } })
            .webp()
            .toBuffer(),
        ),
      ),
    ).toEqual({ animated: true });
    expect(traits(sample('mysha.png'))).toEqual({ interlaced: false });
    expect(traits(new Uint8Array(await photo.clone().png({ progressive: true }).toBuffer()))).toEqual({ interlaced: true });
  });

  it('a progressive CMYK JPEG counts its 4 samples a pixel: the estimate covers the measured peak', async () => {
    const cmyk = new Uint8Array(await sharp(sample('plant.png')).resize(64, 48).flatten().withIccProfile('cmyk').jpeg({ progressive: true }).toBuffer());
    const facts = { format: 'jpeg' as const, width: 4000, height: 3000, ...decodeTraits(cmyk, sniffImage(cmyk)!) };
    expect(facts).toMatchObject({ progressive: true, samplesPerPixel: 4 });
    // 4000×3000 from seeding.jpg, quality 90 (6.0 MB): +213 MiB peak RSS decoded at full size
    // (scripts/bench/children/memory-render.ts, 1024 px cover); 3 samples a pixel said 192.
    const fileBytes = 6_002_404;
    expect(renderPeakBytes({ ...facts, orientation: 1 }, { width: 1024, height: 1024, fit: 'cover' }, 1, fileBytes)).toBeGreaterThanOrEqual(213 * 2 ** 20);
    expect(decodePeakBytes(facts, 1)).toBeGreaterThan(decodePeakBytes({ ...facts, samplesPerPixel: 3 }, 1));
  });

  it('traits lower the estimate: a baseline JPEG, a lossy WebP', () => {
    const size = { width: 4000, height: 3000 };
    expect(decodePeakBytes({ format: 'jpeg', ...size, progressive: false })).toBeLessThan(decodePeakBytes({ format: 'jpeg', ...size, progressive: true, samplesPerPixel: 1.5 }));
    expect(decodePeakBytes({ format: 'jpeg', ...size, progressive: true, samplesPerPixel: 1.5 })).toBeLessThan(decodePeakBytes({ format: 'jpeg', ...size }));
    expect(decodePeakBytes({ format: 'webp', ...size, lossless: false, alpha: false })).toBeLessThan(decodePeakBytes({ format: 'webp', ...size }));
  });

  it('maxDecodablePixels is exactly where decodePeakBytes crosses the budget', () => {
    const kinds = [{ format: 'png' as const }, { format: 'webp' as const }, { format: 'webp' as const, lossless: false, alpha: true }, { format: 'webp' as const, lossless: false, alpha: false }];
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.integer({ min: 0, max: 30_000_000 }), fc.integer({ min: 64, max: 1024 }), (kind, fileBytes, budgetMB) => {
        const budget = budgetMB * 1024 * 1024;
        const max = maxDecodablePixels(kind, budget, fileBytes);
        if (max > 0) expect(decodePeakBytes({ ...kind, width: max, height: 1 }, 1, fileBytes)).toBeLessThanOrEqual(budget);
        expect(decodePeakBytes({ ...kind, width: max + 1, height: 1 }, 1, fileBytes)).toBeGreaterThan(budget);
      }),
    );
  });

  it('checkSource refuses a PNG or WebP past the memory budget with SOURCE_TOO_LARGE, takes one just under it, and a baseline JPEG or opaque lossy WebP of any size', async () => {
    const limits = { ...LIMIT_DEFAULTS, renderMemoryBytes: 64 * 1024 * 1024 };
    const flat = (side: number) => sharp({ create: { width: side, height: side, channels: 3, background: '#808080' } });
    const seeThrough = (s: ReturnType<typeof sharp>) => s.ensureAlpha(0.5);
    // What each keeps at full size while it decodes (a still WebP's output is at 1/8 at the least).
    const encoders: Array<[string, string, string, (s: ReturnType<typeof sharp>) => Promise<Buffer>]> = [
      ['PNG', 'png', 'decode at full size', (s) => s.png({ progressive: true }).toBuffer()], // interlaced: full size
      ['lossy WebP', 'webp', 'keep a full-size alpha plane while decoding', (s) => seeThrough(s).webp().toBuffer()],
      ['lossless WebP', 'webp', 'keep a full-size ARGB plane while decoding', (s) => s.webp({ lossless: true }).toBuffer()],
    ];
    for (const [label, format, why, encode] of encoders) {
      const probe = new Uint8Array(await encode(flat(16)));
      const max = maxRenderablePixels({ ...sniffImage(probe)!, ...decodeTraits(probe, sniffImage(probe)!) }, limits.renderMemoryBytes, 0);
      const over = new Uint8Array(await encode(flat(Math.floor(Math.sqrt(max)) + 1)));
      const err = (() => {
        try {
          return checkSource(over, limits);
        } catch (e) {
          return e;
        }
      })();
      expect(isHttpError(err) && [err.status, err.code], label).toEqual([422, 'SOURCE_TOO_LARGE']);
      // Says the format, the source's pixels and what this budget allows.
      const side = Math.floor(Math.sqrt(max)) + 1;
      expect(isHttpError(err) && err.message, label).toMatch(
        new RegExp(`is ${side}×${side} \\(${side * side} pixels\\); ${label} sources ${why} and may have at most \\d+ pixels in this renderer's 64 MB memory budget`),
      );
      const under = new Uint8Array(await encode(flat(Math.floor(Math.sqrt(max) * 0.98))));
      expect(checkSource(under, limits).format, label).toBe(format);
    }
    const jpeg = new Uint8Array(await flat(7000).jpeg().toBuffer());
    expect(checkSource(jpeg, limits)).toMatchObject({ format: 'jpeg', width: 7000, height: 7000 });
    const lossy = new Uint8Array(await flat(7000).webp().toBuffer());
    expect(checkSource(lossy, limits)).toMatchObject({ format: 'webp', width: 7000, height: 7000, lossless: false, alpha: false });
    const png = new Uint8Array(await flat(7000).png().toBuffer()); // not interlaced: decoded at 1/8 at the least
    expect(checkSource(png, limits)).toMatchObject({ format: 'png', width: 7000, height: 7000, interlaced: false });
    // A progressive JPEG keeps a block of coefficients for every 8×8 pixels of the full image until
    // its last scan: at 1/8 only what the IDCT reads (10 bytes a block), so 9 MP of 4:4:4 (6 bytes
    // a pixel when every coefficient was kept) fits 64 MB, and a 24 MB budget refuses it.
    const progressive = new Uint8Array(await flat(3000).jpeg({ progressive: true, chromaSubsampling: '4:4:4' }).toBuffer());
    expect(checkSource(progressive, limits)).toMatchObject({ format: 'jpeg', width: 3000, height: 3000, progressive: true });
    const err = (() => {
      try {
        return checkSource(progressive, { ...limits, renderMemoryBytes: 24 * 1024 * 1024 });
      } catch (e) {
        return e;
      }
    })();
    expect(isHttpError(err) && [err.status, err.code, err.message]).toEqual([
      422,
      'SOURCE_TOO_LARGE',
      expect.stringMatching(/progressive JPEG sources keep the coefficients of the full image while decoding and may have at most \d+ pixels/),
    ]);
  });
});
