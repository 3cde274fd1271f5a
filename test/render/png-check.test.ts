import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, pngStructureProblem } from '../../src/render/png-check.js';
import { sample } from './helpers.js';

describe('pngStructureProblem', () => {
  it('accepts the sample PNGs', () => {
    for (const f of ['mysha.png', 'plant.png', 'astronaut.png']) expect(pngStructureProblem(sample(f)), f).toBeNull();
  });

  it('finds truncation anywhere, and a flipped byte outside IDAT', () => {
    const png = sample('mysha.png');
    for (const cut of [20, 40, 1000, png.length - 13, png.length - 1]) expect(pngStructureProblem(png.subarray(0, cut)), `cut at ${cut}`).toMatch(/truncated/);
    // 20: IHDR; the last bytes: IEND's CRC.
    for (const at of [20, png.length - 2]) {
      const b = png.slice();
      b[at] = (b[at] ?? 0) ^ 1;
      expect(pngStructureProblem(b), `byte ${at}`).toMatch(/CRC mismatch in (IHDR|IEND)/);
    }
  });

  it('leaves a flipped byte inside IDAT to the decoder, which checks its CRC', () => {
    const b = sample('mysha.png').slice();
    b[30_000] = (b[30_000] ?? 0) ^ 1;
    expect(pngStructureProblem(b)).toBeNull();
  });

  it('computes the same CRC-32 as zlib over any bytes and range (sliced tables, tail loop)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(40), fc.nat(40), (bytes, a, b) => {
        const from = Math.min(a, bytes.length);
        const to = Math.max(from, bytes.length - b);
        expect(crc32(bytes, from, to)).toBe(zlibCrc32(bytes.subarray(from, to)));
      }),
      { numRuns: 500 },
    );
  });
});
