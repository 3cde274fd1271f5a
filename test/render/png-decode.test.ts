/**
 * The PNG decoder (wasm/jpeg-scaled/src/png_rgba.rs) against @jsquash/png's, which it replaced
 * for decoding: the same pixels for every colour type, bit depth and interlacing.
 */
import jsquashPngDecode, { init as initJsquashPng } from '@jsquash/png/decode.js';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Codecs } from '../../src/render/codecs.js';
import { codecModules, codecs, sample } from './helpers.js';

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
});
