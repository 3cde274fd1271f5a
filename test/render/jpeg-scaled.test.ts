import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sniffImage } from '../../src/core/image/sniff.js';
import type { Codecs } from '../../src/render/codecs.js';
import { decodeSource } from '../../src/render/decode-source.js';
import { isProgressiveJpeg, jpegFrame, jpegStructureProblem, withoutAcScans } from '../../src/render/jpeg-dc-scans.js';
import { createScaledJpegDecoder, jpegScaleDenominator, scaleDenominator } from '../../src/render/jpeg-scaled.js';
import { variantDenominator } from '../../src/render/jsquash-renderer.js';
import { cropAndShrink } from '../../src/render/pre-shrink.js';
import { codecModules, codecs, sample } from './helpers.js';

const decoder = async () => createScaledJpegDecoder((await codecModules()).jpegScaled);

/** Mean absolute difference per channel (RGB), same sizes required. */
function mae(a: ImageData, b: ImageData): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 4) for (let c = 0; c < 3; c++) sum += Math.abs((a.data[i + c] as number) - (b.data[i + c] as number));
  return sum / ((a.data.length / 4) * 3);
}

describe('JPEG decode at reduced scale', () => {
  it.each([
    ['free.jpg', 2880, 2160],
    ['seeding.jpg', 5312, 2988],
    ['hopper.jpg', 512, 512],
  ])('%s at 1/2, 1/4, 1/8 is ⌈size/d⌉ and looks like the full decode box-shrunk by d', async (name, width, height) => {
    const bytes = sample(name);
    const full = await (await codecs()).decode('jpeg', bytes);
    const d = await decoder();
    for (const k of [2, 4, 8] as const) {
      const small = d.decode(bytes, k);
      expect([small.width, small.height]).toEqual([Math.ceil(width / k), Math.ceil(height / k)]);
      // Same picture: compare on the whole blocks both have (the box shrink trims a partial edge block).
      const boxed = cropAndShrink(full, { x: 0, y: 0, width: Math.floor(width / k) * k, height: Math.floor(height / k) * k }, k, false);
      const trimmed = cropAndShrink(small, { x: 0, y: 0, width: boxed.width, height: boxed.height }, 1, false);
      // Seen: 0.2–1.8 (a shifted or mis-scaled decode is > 10).
      expect(mae(trimmed, boxed)).toBeLessThan(3);
    }
  });

  it("drops a progressive file's AC scans at 1/8 without changing a pixel", async () => {
    const bytes = sample('seeding.jpg');
    expect(isProgressiveJpeg(bytes)).toBe(true);
    const dcOnly = withoutAcScans(bytes)!;
    expect(dcOnly.length).toBeLessThan(bytes.length / 4);
    const plain = createScaledJpegDecoder((await codecModules()).jpegScaled, { dropAcScans: false });
    const reference = plain.decode(bytes, 8);
    const fast = (await decoder()).decode(bytes, 8);
    expect(Buffer.from(fast.data).equals(Buffer.from(reference.data))).toBe(true);
    // What went to the decoder was the DC-only stream: decoding it plainly gives the same.
    expect(Buffer.from(plain.decode(dcOnly, 8).data).equals(Buffer.from(reference.data))).toBe(true);
  });

  it('drops the AC scans in WebAssembly exactly as jpeg-dc-scans.ts withoutAcScans does, damaged files included', async () => {
    const photo = sharp(sample('free.jpg')).resize(400);
    const sources = [
      new Uint8Array(await photo.clone().jpeg({ quality: 85, progressive: true }).toBuffer()),
      new Uint8Array(await photo.clone().jpeg({ quality: 95, progressive: true, chromaSubsampling: '4:4:4' }).toBuffer()),
      new Uint8Array(await photo.clone().greyscale().jpeg({ quality: 70, progressive: true }).toBuffer()),
    ];
    const plain = createScaledJpegDecoder((await codecModules()).jpegScaled, { dropAcScans: false });
    const fast = await decoder();
    const outcome = (decode: () => ImageData): string => {
      try {
        return Buffer.from(decode().data).toString('base64');
      } catch (err) {
        return `threw ${String(err).slice(0, 40)}`;
      }
    };
    for (const source of sources) {
      const cut = source.subarray(0, Math.floor(source.length * 0.7));
      const ended = new Uint8Array(cut.length + 2);
      ended.set(cut);
      ended.set([0xff, 0xd9], cut.length);
      const flipped = source.slice();
      flipped[Math.floor(source.length / 2)] = 0xff;
      for (const bytes of [source, cut, ended, flipped]) {
        const reference = outcome(() => plain.decode((isProgressiveJpeg(bytes) && withoutAcScans(bytes)) || bytes, 8));
        expect(outcome(() => fast.decode(bytes, 8))).toBe(reference);
      }
    }
  });

  it('a progressive file decodes at 1/2, 1/4 and 1/8 to the very pixels of its baseline twin, keeping only the coefficients that scale reads', async () => {
    // Same quantised coefficients, two entropy codings: libjpeg-turbo's progressive script has
    // spectral selection and successive-approximation refinement scans, so every kind of scan runs.
    const photo = sharp(sample('free.jpg')).resize(1600);
    const baseline = new Uint8Array(await photo.clone().jpeg({ quality: 85 }).toBuffer());
    const progressive = new Uint8Array(await photo.clone().jpeg({ quality: 85, progressive: true }).toBuffer());
    expect(isProgressiveJpeg(progressive)).toBe(true);
    const plain = createScaledJpegDecoder((await codecModules()).jpegScaled, { dropAcScans: false });
    for (const d of [2, 4, 8] as const) {
      const [a, b] = [plain.decode(baseline, d), plain.decode(progressive, d)];
      expect([b.width, b.height], `1/${d}`).toEqual([a.width, a.height]);
      expect(Buffer.from(b.data).equals(Buffer.from(a.data)), `1/${d}`).toBe(true);
    }
    // seeding.jpg: 5312×2988, progressive 4:2:0, every coefficient kept would be 47.6 MB (2 bytes a sample).
    const module = (await codecModules()).jpegScaled;
    const grown = (d: number) => {
      const ex = new WebAssembly.Instance(module, { env: { emscripten_notify_memory_growth: () => {} } }).exports as unknown as {
        memory: WebAssembly.Memory;
        input_alloc(n: number): number;
        decode(n: number, d: number): number;
      };
      const bytes = sample('seeding.jpg');
      const at = ex.input_alloc(bytes.length); // may grow the memory: its buffer after
      new Uint8Array(ex.memory.buffer, at, bytes.length).set(bytes);
      const before = ex.memory.buffer.byteLength;
      expect(ex.decode(bytes.length, d)).toBe(0);
      return (ex.memory.buffer.byteLength - before) / 2 ** 20;
    };
    expect(grown(8)).toBeLessThan(12);
    expect(grown(4)).toBeLessThan(16);
  });

  it('a noisy baseline file (blocks that run to coefficient 63, long codes) decodes to the very pixels of its progressive twin', async () => {
    // The baseline decode skips the coefficients a reduced scale does not read several codes at
    // a time (vendor/jpeg-decoder huffman.rs `skip_lut`); the progressive one keeps every
    // coefficient and reads each code on its own. Noise at q98 leaves many blocks with no
    // end-of-block code, whose next bits are the following block's DC.
    let seed = 7;
    const noise = new Uint8Array(320 * 240 * 3).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) & 255);
    const plain = createScaledJpegDecoder((await codecModules()).jpegScaled, { dropAcScans: false });
    for (const chromaSubsampling of ['4:4:4', '4:2:0']) {
      const image = sharp(noise, { raw: { width: 320, height: 240, channels: 3 } });
      const baseline = new Uint8Array(await image.clone().jpeg({ quality: 98, chromaSubsampling }).toBuffer());
      const progressive = new Uint8Array(await image.clone().jpeg({ quality: 98, chromaSubsampling, progressive: true }).toBuffer());
      for (const d of [2, 4, 8] as const) {
        const [a, b] = [plain.decode(baseline, d), plain.decode(progressive, d)];
        expect(Buffer.from(a.data).equals(Buffer.from(b.data)), `${chromaSubsampling} 1/${d}`).toBe(true);
      }
    }
  });

  it('leaves baseline files alone and refuses streams it cannot walk', () => {
    const baseline = sample('free.jpg');
    expect(isProgressiveJpeg(baseline)).toBe(false);
    expect(Buffer.from(withoutAcScans(baseline)!).equals(Buffer.from(baseline))).toBe(true);
    const truncated = sample('seeding.jpg').subarray(0, 100_000);
    expect(withoutAcScans(truncated)).toBeUndefined();
    expect(withoutAcScans(new Uint8Array([0xff, 0xd8, 0x00, 0x01]))).toBeUndefined();
  });

  it('reads the frame header without reading scan data: the walk stops at the first scan', () => {
    // Every render reads a JPEG's frame (decode-peak.ts jpegFrame, on the main thread and in the
    // render thread) and asks whether it is progressive; only the structure check walks it all.
    const baseline = sample('free.jpg');
    const searches: number[] = [];
    const indexOf = Uint8Array.prototype.indexOf;
    Uint8Array.prototype.indexOf = function (this: Uint8Array, ...args: Parameters<Uint8Array['indexOf']>) {
      searches.push(args[1] ?? 0);
      return indexOf.apply(this, args);
    };
    try {
      expect(isProgressiveJpeg(baseline)).toBe(false);
      expect(jpegFrame(baseline)?.progressive).toBe(false);
      expect(searches).toEqual([]);
      expect(jpegStructureProblem(baseline)).toBeNull();
      expect(searches.length).toBeGreaterThan(100); // the whole scan, 0xFF by 0xFF
    } finally {
      Uint8Array.prototype.indexOf = indexOf;
    }
  });

  it('fails cleanly on damaged input and keeps decoding afterwards', async () => {
    const d = await decoder();
    const bytes = sample('hopper.jpg');
    const broken = bytes.slice(0, 400);
    for (let i = 0; i < 100; i++) expect(() => d.decode(broken, 2)).toThrow(/jpeg-decoder/);
    expect(() => d.decode(new Uint8Array([1, 2, 3]), 2)).toThrow(/jpeg-decoder/);
    const ok = d.decode(bytes, 2);
    expect([ok.width, ok.height]).toEqual([256, 256]);
  });

  it('damaged files (random bytes overwritten) give pixels or undefined, never an exception, and the next decode still works', async () => {
    const c = await codecs();
    const hopper = sample('hopper.jpg');
    const free = sample('free.jpg').subarray(0, 200_000); // a baseline file cut short
    fc.assert(
      fc.property(fc.constantFrom(hopper, free), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.constantFrom(2, 4, 8), (original, edits, d) => {
        const bytes = original.slice();
        for (const [at, value] of edits) bytes[200 + (at % (bytes.length - 200))] = value; // past the headers, mostly
        const image = c.decodeReduced(bytes, d as 2 | 4 | 8);
        if (image) expect(image.data.length).toBe(image.width * image.height * 4);
      }),
      { numRuns: 150 },
    );
    expect(c.decodeReduced(hopper, 2)?.width).toBe(256);
  });

  it('picks the largest scale that leaves the used region 2× the target (WebP, PNG)', () => {
    expect(scaleDenominator({ width: 2988, height: 2988 }, { width: 64, height: 64 }, 2)).toBe(8);
    expect(scaleDenominator({ width: 2988, height: 2988 }, { width: 256, height: 256 }, 2)).toBe(4);
    expect(scaleDenominator({ width: 2988, height: 2988 }, { width: 512, height: 512 }, 2)).toBe(2);
    expect(scaleDenominator({ width: 512, height: 512 }, { width: 256, height: 256 }, 2)).toBe(1);
    const plant = sniffImage(sample('plant.png'))!; // 500×333
    expect(variantDenominator(plant, { width: 64, height: 64, fit: 'cover' })).toBe(2);
  });

  it("picks a JPEG's scale as libvips shrinks on load by default: d + 1 source pixels per target pixel", () => {
    // sharp's rule (pipeline.cc, fastShrinkOnLoad): the largest d ≤ shrink, one step finer when ⌊shrink⌋ = d.
    const sharpRule = (shrink: number) => {
      let d = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
      if (d > 1 && Math.floor(shrink) === d) d /= 2;
      return d;
    };
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 12_000 }), fc.integer({ min: 16, max: 12_000 }), fc.integer({ min: 8, max: 2048 }), (w, h, t) => {
        const shrink = Math.min(w, h) / t;
        expect(jpegScaleDenominator({ width: w, height: h }, { width: t, height: t })).toBe(sharpRule(shrink));
      }),
      { numRuns: 2000 },
    );
    expect(jpegScaleDenominator({ width: 512, height: 512 }, { width: 64, height: 64 })).toBe(4); // exactly 8×: one step finer
    const seeding = sniffImage(sample('seeding.jpg'))!;
    expect(variantDenominator(seeding, { width: 256, height: 256, fit: 'cover' })).toBe(8);
    expect(variantDenominator(seeding, { width: 512, height: 512, fit: 'cover' })).toBe(4);
    // contain uses the whole 5312×2988 frame for a 512×288 picture
    expect(variantDenominator(seeding, { width: 512, height: 512, fit: 'contain' })).toBe(8);
    // the original size needs every pixel
    expect(variantDenominator(seeding, { width: 0, height: 0, fit: 'inside' })).toBe(1);
    // orientation 6 shows it 2988 wide: a 1000×100 cover box uses 2988×299 shown
    expect(variantDenominator({ ...seeding, orientation: 6 }, { width: 1000, height: 100, fit: 'cover' })).toBe(1);
    // unrotated the box uses 5312×531: 5.3× the target, so 1/4
    expect(variantDenominator({ ...seeding, orientation: 1 }, { width: 1000, height: 100, fit: 'cover' })).toBe(4);
  });

  it('decodeSource falls back to the full decoder when the reduced one cannot read the file', async () => {
    const real = await codecs();
    const calls: string[] = [];
    const stub: Codecs = {
      ...real,
      decodeReduced: () => {
        calls.push('reduced');
        return undefined;
      },
      decode: (format, bytes, into) => {
        calls.push('full');
        return real.decode(format, bytes, into);
      },
    };
    const limits = { maxSourceBytes: 50_000_000, maxSourcePixels: 50_000_000 };
    const { image, denominator } = await decodeSource(stub, sample('hopper.jpg'), limits, { denominator: () => 4 });
    expect(calls).toEqual(['reduced', 'full']);
    expect([image.width, image.height, denominator]).toEqual([512, 512, 1]);
    const reduced = await decodeSource(real, sample('hopper.jpg'), limits, { denominator: () => 4 });
    expect([reduced.image.width, reduced.denominator]).toEqual([128, 4]);
    // A PNG (not interlaced) has its own reduced decode; a GIF has none.
    const png = await decodeSource(real, sample('mysha.png'), limits, { denominator: () => 4 });
    expect([png.image.width, png.denominator]).toEqual([64, 4]);
    const gif = new Uint8Array(await sharp(sample('mysha.png')).gif().toBuffer());
    const full = await decodeSource(real, gif, limits, { denominator: () => 4 });
    expect([full.image.width, full.denominator]).toEqual([256, 1]);
  });
});
