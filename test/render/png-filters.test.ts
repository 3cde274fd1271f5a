/**
 * PNG row filters (wasm/jpeg-scaled/vendor/png: Paeth and Average of 3- and 4-byte pixels are
 * undone with WebAssembly SIMD): files built here with one filter type per row, for every
 * pixel size the decoder meets, decode to exactly the pixels that were filtered.
 */
import { deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Codecs } from '../../src/render/codecs.js';
import { concatBytes, makePngChunk } from '../support/png-chunks.js';
import { codecs } from './helpers.js';

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** PNG's predictor for Paeth: of left, above and upper-left, the nearest to left + above − upper-left (ties in that order). */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** `raw` rows (`stride` bytes each) filtered with `filters[y % filters.length]`, each row led by its filter byte. */
function filterRows(raw: Uint8Array, stride: number, bpp: number, filters: number[]): Uint8Array {
  const rows = raw.length / stride;
  const out = new Uint8Array(rows * (stride + 1));
  for (let y = 0; y < rows; y++) {
    const filter = filters[y % filters.length]!;
    out[y * (stride + 1)] = filter;
    for (let i = 0; i < stride; i++) {
      const x = raw[y * stride + i]!;
      const a = i >= bpp ? raw[y * stride + i - bpp]! : 0;
      const b = y > 0 ? raw[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= bpp ? raw[(y - 1) * stride + i - bpp]! : 0;
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter]!;
      out[y * (stride + 1) + 1 + i] = (x - predicted) & 0xff;
    }
  }
  return out;
}

const COLOUR_TYPES = [
  { name: 'grey', type: 0, channels: 1 },
  { name: 'grey+alpha', type: 4, channels: 2 },
  { name: 'RGB', type: 2, channels: 3 },
  { name: 'RGBA', type: 6, channels: 4 },
] as const;

/** A PNG of `raw` samples (big-endian for 16 bits) and what it decodes to: 8-bit RGBA. */
function makePng(raw: Uint8Array, width: number, height: number, colour: (typeof COLOUR_TYPES)[number], depth: 8 | 16, filters: number[]) {
  const bytesPerSample = depth / 8;
  const bpp = colour.channels * bytesPerSample;
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([depth, colour.type, 0, 0, 0], 8);
  const png = concatBytes([SIGNATURE, makePngChunk('IHDR', ihdr), makePngChunk('IDAT', deflateSync(filterRows(raw, width * bpp, bpp, filters))), makePngChunk('IEND', new Uint8Array(0))]);
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    // 16-bit samples are cut to their high byte.
    const sample = (ch: number) => raw[(p * colour.channels + ch) * bytesPerSample]!;
    const [r, g, b, a] = colour.channels <= 2 ? [sample(0), sample(0), sample(0), colour.channels === 2 ? sample(1) : 255] : [sample(0), sample(1), sample(2), colour.channels === 4 ? sample(3) : 255];
    rgba.set([r, g, b, a], p * 4);
  }
  return { png, rgba };
}

/** Deterministic samples: noise over all 256 levels, or over a few near the ends (ties and wrap-around in the predictors). */
function samples(n: number, seed: number, levels?: number[]): Uint8Array {
  let s = seed >>> 0;
  const next = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s >>> 24;
  };
  return Uint8Array.from({ length: n }, () => (levels ? levels[next() % levels.length]! : next()));
}

describe('PNG row filters', () => {
  let c: Codecs;
  beforeAll(async () => {
    c = await codecs();
  });

  const contents: Array<[string, number[] | undefined]> = [
    ['noise', undefined],
    ['few levels', [0, 1, 2, 127, 128, 253, 254, 255]],
  ];
  for (const depth of [8, 16] as const) {
    for (const colour of COLOUR_TYPES) {
      it(`${colour.name} ${depth}-bit: None, Sub, Up, Average and Paeth rows decode to the pixels filtered`, async () => {
        for (const [label, levels] of contents) {
          for (const width of [1, 2, 37]) {
            const height = 11;
            const raw = samples(width * height * colour.channels * (depth / 8), width * 31 + depth, levels);
            // Every filter after every other, and rows of one filter (each row's predictor reads the row above).
            for (const filters of [[0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 3], [4], [3]]) {
              const { png, rgba } = makePng(raw, width, height, colour, depth, filters);
              const image = await c.decode('png', png);
              expect([image.width, image.height]).toEqual([width, height]);
              const same = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength).equals(Buffer.from(rgba));
              expect(same, `${label}, ${width} px wide, filters ${filters.join('')}`).toBe(true);
            }
          }
        }
      });
    }
  }
});
