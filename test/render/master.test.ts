import { describe, expect, it } from 'vitest';
import { MASTER_DEFAULTS, makeMaster, masterFactor, masterServes } from '../../src/render/master.js';
import { blankImage } from '../../src/render/image-data.js';

const info = (width: number, height: number, orientation = 1) => ({ format: 'jpeg' as const, width, height, hasAlpha: false, orientation });
const box = (width: number, height: number, fit: 'cover' | 'contain' | 'inside' = 'cover') => ({ width, height, fit });

describe('masters', () => {
  it('keeps none for sources that are cheap to decode again', () => {
    expect(masterFactor(info(1024, 768))).toBe(1);
    expect(masterFactor(info(1999, 1999))).toBe(1);
  });

  it('shrinks large sources by the largest factor that keeps the short side >= 1024', () => {
    expect(masterFactor(info(5312, 2988))).toBe(2);
    expect(masterFactor(info(2880, 2160))).toBe(2);
    // JPEG, WebP and PNG masters are decoded straight at a scale the decoder has: a power of two up to 8.
    expect(masterFactor(info(8000, 6000))).toBe(4);
    expect(masterFactor({ ...info(8000, 6000), format: 'png' })).toBe(4);
    expect(masterFactor({ ...info(8000, 6000), format: 'avif' })).toBe(5);
    expect(masterFactor(info(20000, 20000))).toBe(8);
    expect(Math.floor(2988 / masterFactor(info(5312, 2988)))).toBeGreaterThanOrEqual(MASTER_DEFAULTS.minShortSide);
  });

  it('serves only cover boxes it covers with 2× margin, in displayed orientation', () => {
    const m = makeMaster(blankImage(1440, 1080), info(2880, 2160), 2, false);
    expect(m.image.width).toBe(720);
    expect(masterServes(m, box(256, 256))).toBe(true);
    expect(masterServes(m, box(270, 270))).toBe(true);
    expect(masterServes(m, box(271, 271))).toBe(false);
    expect(masterServes(m, box(256, 256, 'contain'))).toBe(false);
    expect(masterServes(m, box(256, 0, 'inside'))).toBe(false);
    // 720×540 stored, shown 540×720 under orientation 6: a 300×360 box needs 600×720 shown.
    const rotated = makeMaster(blankImage(1440, 1080), info(2880, 2160, 6), 2, false);
    expect(masterServes(rotated, box(270, 360))).toBe(true);
    expect(masterServes(rotated, box(360, 270))).toBe(false);
  });
});

describe('rendering from masters (real codecs)', () => {
  it('a source decoded at full size for its first variant keeps those pixels: byte-identical output to a direct render', async () => {
    const { renderer, sample, variant } = await import('./helpers.js');
    const r = await renderer();
    const src = sample('hopper.jpg');
    // 300×200 of a 512×512 source needs every pixel: decoded at full size, kept as it is.
    const { master } = await r.renderKeepingMaster(src, variant(300, 200, 'cover', 'jpeg'));
    expect(master!.factor).toBe(1);
    // Variants that need the full resolution: a direct render of a smaller one decodes at a
    // reduced scale (jpeg-scaled.ts), which a factor-1 master does not.
    for (const v of [variant(300, 200, 'cover', 'jpeg'), variant(200, 200, 'contain', 'png'), variant(300, 0, 'inside')]) {
      expect((await r.renderFromMaster(master!, v)).body).toEqual((await r.render(src, v)).body);
    }
  });

  it("first touch decodes at the variant's scale; that decode is the master and serves what its pixels can", async () => {
    const { renderer, sample, variant } = await import('./helpers.js');
    const r = await renderer();
    const src = sample('free.jpg'); // 2880×2160
    const { master, body } = await r.renderKeepingMaster(src, variant(64, 64));
    expect([master!.factor, master!.image.width, master!.image.height]).toEqual([8, 360, 270]);
    // The first render costs no more than a plain one: the same decode, the same bytes.
    expect(body).toEqual((await r.render(src, variant(64, 64))).body);
    // 270 px short side: serves cover boxes up to 135 px with the 2× margin, and nothing larger.
    expect(masterServes(master!, box(128, 128))).toBe(true);
    expect(masterServes(master!, box(135, 135))).toBe(true);
    expect(masterServes(master!, box(136, 136))).toBe(false);
    expect(masterServes(master!, box(128, 128, 'contain'))).toBe(false);
    expect((await r.renderFromMaster(master!, variant(128, 128))).body).toEqual((await r.render(src, variant(128, 128))).body);
  });

  it('a master coarser than the source renders the same picture as the original', async () => {
    const { codecs, renderer, sample, variant } = await import('./helpers.js');
    const c = await codecs();
    const r = await renderer();
    const src = sample('free.jpg');
    // Kept from a 256 px render (decoded at 1/4), then asked for a 100 px PNG, which a direct
    // render decodes at 1/8: two routes to the same picture.
    const { master, timings } = await r.renderKeepingMaster(src, variant(256, 256));
    expect(master!.factor).toBe(4);
    expect(timings.decode).toBeGreaterThan(0);
    const v = variant(100, 100, 'cover', 'png');
    const fromMaster = (await r.renderFromMaster(master!, v)).body;
    const direct = (await r.render(src, v)).body;
    const a = await c.decode('png', fromMaster);
    const b = await c.decode('png', direct);
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) diff += Math.abs(a.data[i]! - b.data[i]!);
    expect(diff / a.data.length).toBeLessThan(2.5); // mean per channel, of 255
  });
});

describe('masters made straight from the decoder output (no full-size copy)', () => {
  const same = (a: ImageData, b: ImageData) => {
    expect([a.width, a.height]).toEqual([b.width, b.height]);
    expect(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength))).toBe(true);
  };

  it('decode with `into` gives what `use` makes of the plainly decoded image (jpeg, webp, png)', async () => {
    const { codecs, sample } = await import('./helpers.js');
    const { sniffImage } = await import('../../src/core/image/sniff.js');
    const c = await codecs();
    for (const name of ['hopper.jpg', 'mysha-webp.webp', 'plant.png', 'free.jpg']) {
      const bytes = sample(name);
      const info = sniffImage(bytes)!;
      const full = await c.decode(info.format, bytes);
      const k = 2;
      const expected = makeMaster(full, info, k, false).image;
      let seen: ImageData | undefined;
      const got = await c.decode(info.format, bytes, {
        width: info.width,
        height: info.height,
        use: (image) => {
          seen = image;
          return makeMaster(image, info, k, false).image;
        },
      });
      expect(seen!.width).toBe(info.width);
      // JPEG and WebP: `use` read the pixels inside the decoder's WebAssembly memory.
      if (info.format !== 'png') expect(seen!.data.buffer.byteLength).toBeGreaterThan(seen!.data.byteLength);
      same(got, expected);
      // And the decoder still hands out full copies afterwards.
      same(await c.decode(info.format, bytes), full);
    }
  });

  it("renderKeepingMaster on a large JPEG: the master is the source decoded at the variant's scale, and the variant comes from it", async () => {
    const { codecs, renderer, sample, variant } = await import('./helpers.js');
    const { sniffImage } = await import('../../src/core/image/sniff.js');
    const c = await codecs();
    const r = await renderer();
    const src = sample('free.jpg');
    const info = sniffImage(src)!;
    expect(masterFactor(info)).toBe(2);
    // 256 px of a 2160 px short side: 1/4 keeps the 2× margin (540 ≥ 512), a finer scale than the master needs.
    const expected = { image: c.decodeReduced(src, 4)!, factor: 4, info };
    expect([expected.image.width, expected.image.height]).toEqual([720, 540]);
    const v = variant(256, 256, 'cover', 'webp');
    const { master, body } = await r.renderKeepingMaster(src, v);
    expect(master!.factor).toBe(expected.factor);
    same(master!.image, expected.image);
    expect(body).toEqual((await r.renderFromMaster(expected, v)).body);
  });
});
