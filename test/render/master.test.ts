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
    expect(masterFactor(info(8000, 6000))).toBe(5);
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
  it('a small source\'s master is its decoded pixels: byte-identical output to a direct render', async () => {
    const { renderer, sample, variant } = await import('./helpers.js');
    const r = await renderer();
    const src = sample('hopper.jpg');
    const { master } = await r.renderKeepingMaster(src, variant(64, 64));
    expect(master.factor).toBe(1);
    for (const v of [variant(96, 48, 'cover', 'jpeg'), variant(100, 100, 'contain', 'png'), variant(300, 0, 'inside')]) {
      expect((await r.renderFromMaster(master, v)).body).toEqual((await r.render(src, v)).body);
    }
  });

  it('a large source\'s master renders the same picture as the original', async () => {
    const { codecs, renderer, sample, variant } = await import('./helpers.js');
    const c = await codecs();
    const r = await renderer();
    const src = sample('free.jpg');
    const v = variant(128, 128, 'cover', 'png');
    const { master, timings } = await r.renderKeepingMaster(src, v);
    expect(master.factor).toBe(2);
    expect(timings.decode).toBeGreaterThan(0);
    const fromMaster = (await r.renderFromMaster(master, v)).body;
    const direct = (await r.render(src, v)).body;
    const a = await c.decode('png', fromMaster);
    const b = await c.decode('png', direct);
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) diff += Math.abs(a.data[i]! - b.data[i]!);
    expect(diff / a.data.length).toBeLessThan(2.5); // mean per channel, of 255
  });
});
