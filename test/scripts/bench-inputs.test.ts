import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { manyScansJpeg, truncatePng, uniqueCopy } from '../../scripts/bench/lib/hostile-inputs.js';
import { slope } from '../../scripts/bench/lib/stats.js';

/** The bench's hostile files must be what they claim: well-formed containers around the trouble. */
const photo = () => sharp('samples/demo/hopper.jpg').resize(96, 64);

function chunks(png: Buffer): { type: string; crcOk: boolean; length: number }[] {
  const out = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    const body = png.subarray(at + 4, at + 8 + len);
    out.push({ type: body.toString('latin1', 0, 4), crcOk: crc32(body) >>> 0 === png.readUInt32BE(at + 8 + len), length: len });
    at += 12 + len;
  }
  return out;
}

const pixels = async (b: Buffer) => (await sharp(b).raw().toBuffer()).toString('base64');

describe('bench hostile inputs', () => {
  it('truncatePng cuts the zlib data short and keeps every chunk CRC valid', async () => {
    const png = await photo().png().toBuffer();
    const cut = truncatePng(png, 0.5);
    const cs = chunks(cut);
    const original = chunks(png);
    const head = original
      .slice(
        0,
        original.findIndex((c) => c.type === 'IDAT'),
      )
      .map((c) => c.type);
    expect(head[0]).toBe('IHDR');
    // The chunks before the image data as they were, one short IDAT, IEND.
    expect(cs.map((c) => c.type)).toEqual([...head, 'IDAT', 'IEND']);
    expect(cs.every((c) => c.crcOk)).toBe(true);
    const idat = original.filter((c) => c.type === 'IDAT').reduce((a, c) => a + c.length, 0);
    expect(cs[head.length]!.length).toBe(Math.floor(idat / 2));
    expect((await sharp(cut).metadata()).width).toBe(96);
    await expect(sharp(cut).raw().toBuffer()).rejects.toThrow();
  });

  it('manyScansJpeg appends empty DC-refinement scans up to the size asked, then EOI', async () => {
    const base = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .jpeg({ progressive: true, mozjpeg: false })
      .toBuffer();
    const out = manyScansJpeg(base, 20_000);
    expect(out.length).toBeLessThanOrEqual(20_000);
    expect(out.length).toBeGreaterThan(20_000 - 14);
    expect(out.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    let scans = 0;
    for (let i = 0; i < out.length - 1; i++) if (out[i] === 0xff && out[i + 1] === 0xda) scans++;
    expect(scans).toBeGreaterThan(1000);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.isProgressive]).toEqual([64, 64, true]);
  });

  it('uniqueCopy changes the bytes, not the pixels, for JPEG, PNG and lossy WebP', async () => {
    for (const [format, bytes] of [
      ['jpeg', await photo().jpeg().toBuffer()],
      ['png', await photo().png().toBuffer()],
      ['webp', await photo().webp({ quality: 80 }).toBuffer()],
    ] as const) {
      const a = uniqueCopy(bytes, format, 1);
      const b = uniqueCopy(bytes, format, 2);
      expect(a.equals(bytes) || a.equals(b)).toBe(false);
      expect(await pixels(a)).toBe(await pixels(bytes));
      const meta = await sharp(b).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([format, 96, 64]);
    }
  });
});

describe('bench leak trend (hostile suite)', () => {
  it("reads a collector's sawtooth as level and a steady rise as its step", () => {
    // The Deno host's RSS after seven rounds of 200 failed decodes (ed108b9): no leak.
    expect(Math.abs(slope([140, 159, 149, 151, 150, 136, 154]))).toBeLessThan(2);
    // 25 KB kept per failure: +5 MB a round, under the same swing.
    expect(slope([140, 159 + 5, 149 + 10, 151 + 15, 150 + 20, 136 + 25, 154 + 30])).toBeCloseTo(5 + slope([140, 159, 149, 151, 150, 136, 154]), 6);
    expect(slope([10, 20, 30])).toBe(10);
    expect(slope([7])).toBeNaN();
  });
});
