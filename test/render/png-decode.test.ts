/**
 * The PNG decoder (wasm/jpeg-scaled/src/png_rgba.rs) against @jsquash/png's, which it replaced
 * for decoding: the same pixels for every colour type, bit depth and interlacing.
 */
import jsquashPngDecode, { init as initJsquashPng } from '@jsquash/png/decode.js';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_DEFAULTS } from '../../src/core/config/service-config.js';
import type { Codecs } from '../../src/render/codecs.js';
import { decodeSource } from '../../src/render/decode-source.js';
import { codecModules, codecs, sample } from './helpers.js';

/** d×d blocks of `full` averaged (edge blocks over the pixels they have), colour weighted by alpha. */
function boxAverage(full: ImageData, d: number): { width: number; height: number; data: Uint8Array } {
  const width = Math.ceil(full.width / d);
  const height = Math.ceil(full.height / d);
  const data = new Uint8Array(width * height * 4);
  for (let oy = 0; oy < height; oy++) {
    for (let ox = 0; ox < width; ox++) {
      const sum = [0, 0, 0, 0];
      let n = 0;
      for (let y = oy * d; y < Math.min(full.height, oy * d + d); y++) {
        for (let x = ox * d; x < Math.min(full.width, ox * d + d); x++) {
          const i = (y * full.width + x) * 4;
          const a = full.data[i + 3]!;
          for (let c = 0; c < 3; c++) sum[c]! += full.data[i + c]! * a;
          sum[3]! += a;
          n++;
        }
      }
      const o = (oy * width + ox) * 4;
      const a = sum[3]!;
      if (a > 0) for (let c = 0; c < 3; c++) data[o + c] = Math.floor((sum[c]! + Math.floor(a / 2)) / a);
      data[o + 3] = a > 0 ? Math.floor((a + Math.floor(n / 2)) / n) : 0;
    }
  }
  return { width, height, data };
}

describe('PNG decode', () => {
  let c: Codecs;
  beforeAll(async () => {
    c = await codecs();
    await (initJsquashPng as unknown as (m: WebAssembly.Module) => Promise<unknown>)((await codecModules()).pngWasm);
  });

  it('gives @jsquash/png’s pixels for RGB, RGBA, grey, grey+alpha, palette (with and without tRNS), 1–16 bits, interlaced', async () => {
    const photo = () => sharp(sample('plant.png')).resize(203, 137); // odd sizes: partial Adam7 blocks
    const files: Array<[string, Buffer]> = [
      ['mysha.png', Buffer.from(sample('mysha.png'))],
      ['astronaut.png', Buffer.from(sample('astronaut.png'))],
      ['RGBA 8', await photo().png().toBuffer()],
      ['RGB 8 interlaced', await photo().flatten({ background: '#fff' }).png({ progressive: true }).toBuffer()],
      ['RGBA 16', await photo().toColourspace('rgb16').png().toBuffer()],
      ['RGBA 16 interlaced', await photo().toColourspace('rgb16').png({ progressive: true }).toBuffer()],
      ['grey 8', await photo().flatten().toColourspace('b-w').png().toBuffer()],
      ['grey 2', await photo().flatten().toColourspace('b-w').png({ palette: false, colours: 4 }).toBuffer()],
      ['grey 16', await photo().flatten().toColourspace('grey16').png().toBuffer()],
      ['grey+alpha 8', await photo().toColourspace('b-w').png().toBuffer()],
      ['palette 8 with tRNS', await photo().png({ palette: true }).toBuffer()],
      ['palette 4 interlaced', await photo().flatten().png({ palette: true, colours: 16, progressive: true }).toBuffer()],
      ['palette 1', await photo().flatten().png({ palette: true, colours: 2 }).toBuffer()],
    ];
    // IHDR bit depth and colour type: what each case claims to be.
    const kinds = files.map(([, png]) => `${png[24]}/${png[25]}/${png[28]}`);
    expect(new Set(kinds)).toEqual(new Set(['8/6/0', '8/2/0', '8/2/1', '16/6/0', '16/6/1', '8/0/0', '2/0/0', '16/0/0', '8/4/0', '8/3/0', '4/3/1', '1/3/0']));
    for (const [label, png] of files) {
      const bytes = new Uint8Array(png);
      const ours = await c.decode('png', bytes);
      const theirs = await jsquashPngDecode(bytes as unknown as ArrayBuffer); // it takes typed arrays too
      expect([ours.width, ours.height], label).toEqual([theirs.width, theirs.height]);
      expect(Buffer.from(ours.data).equals(Buffer.from(theirs.data)), `${label}: same pixels`).toBe(true);
    }
  });

  it('at 1/2, 1/4 and 1/8 averages d×d blocks as rows arrive (not interlaced): the full decode box-averaged, ⌈w/d⌉×⌈h/d⌉', async () => {
    const photo = () => sharp(sample('plant.png')).resize(203, 137);
    const files: Array<[string, Buffer]> = [
      ['RGBA 8', await photo().png().toBuffer()],
      ['RGBA 16', await photo().toColourspace('rgb16').png().toBuffer()],
      ['grey+alpha 8', await photo().toColourspace('b-w').png().toBuffer()],
      ['palette 8 with tRNS', await photo().png({ palette: true }).toBuffer()],
      ['astronaut.png', Buffer.from(sample('astronaut.png'))],
      // Opaque grey and RGB rows are summed without widening to RGBA (png_rgba.rs add_opaque).
      ['RGB 8', await photo().flatten({ background: '#fff' }).png({ adaptiveFiltering: true }).toBuffer()],
      ['grey 8', await photo().flatten().toColourspace('b-w').png().toBuffer()],
      ['RGB 16', await photo().flatten().toColourspace('rgb16').png().toBuffer()],
    ];
    for (const [label, png] of files) {
      const bytes = new Uint8Array(png);
      const full = await c.decode('png', bytes);
      for (const d of [2, 4, 8] as const) {
        const ours = await c.decode('png', bytes, undefined, d);
        const want = boxAverage(full, d);
        expect([ours.width, ours.height], `${label} 1/${d}`).toEqual([want.width, want.height]);
        let worst = 0;
        for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - want.data[i]!));
        expect(worst, `${label} 1/${d}: largest difference from the box average`).toBe(0);
      }
    }
  });

  it('decodes an interlaced PNG at full size whatever scale is asked (its passes scatter pixels)', async () => {
    const png = new Uint8Array(await sharp(sample('plant.png')).resize(203, 137).png({ progressive: true }).toBuffer());
    const got = await decodeSource(c, png, LIMIT_DEFAULTS, { denominator: () => 4 });
    expect([got.image.width, got.image.height, got.denominator]).toEqual([203, 137, 1]);
    const flat = new Uint8Array(await sharp(sample('plant.png')).resize(203, 137).png().toBuffer());
    const reduced = await decodeSource(c, flat, LIMIT_DEFAULTS, { denominator: () => 4 });
    expect([reduced.image.width, reduced.image.height, reduced.denominator]).toEqual([51, 35, 4]);
  });
});
