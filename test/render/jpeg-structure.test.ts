/**
 * The JPEG structure walk runs in WebAssembly (wasm/jpeg-scaled/src/jpeg_structure.rs, through
 * codecs.ts `jpegStructureProblem`) and in JavaScript (jpeg-dc-scans.ts, the reference): every
 * file gets the same verdict from both. Real baseline and progressive JPEGs, then the same
 * files cut, flipped, stuffed with markers and given their end marker back, as damaged uploads
 * and hostile files are.
 */
import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Codecs } from '../../src/render/codecs.js';
import { jpegStructureProblem, MAX_JPEG_SCANS } from '../../src/render/jpeg-dc-scans.js';
import { codecs, sample } from './helpers.js';

let c: Codecs;
const files: Uint8Array[] = [];

beforeAll(async () => {
  c = await codecs();
  const photo = sharp(sample('hopper.jpg')).resize(96, 64);
  files.push(
    sample('hopper.jpg'),
    new Uint8Array(await photo.clone().jpeg({ quality: 80 }).toBuffer()),
    new Uint8Array(await photo.clone().jpeg({ quality: 80, progressive: true }).toBuffer()),
    new Uint8Array(await photo.clone().jpeg({ quality: 90, progressive: true, chromaSubsampling: '4:4:4' }).toBuffer()),
    new Uint8Array(await photo.clone().greyscale().jpeg({ quality: 70, progressive: true }).toBuffer()),
  );
});

const sameVerdict = (bytes: Uint8Array) => expect(c.jpegStructureProblem(bytes), `${bytes.length} bytes`).toBe(jpegStructureProblem(bytes));

/** Scans of nothing: a progressive file's DC refinement scan repeated `n` times before its end marker. */
function manyScans(jpeg: Uint8Array, n: number): Uint8Array {
  const sos = [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00, 0x10];
  const out = new Uint8Array(jpeg.length - 2 + n * sos.length + 2);
  out.set(jpeg.subarray(0, jpeg.length - 2));
  for (let i = 0; i < n; i++) out.set(sos, jpeg.length - 2 + i * sos.length);
  out.set([0xff, 0xd9], out.length - 2);
  return out;
}

describe('JPEG structure walk: WebAssembly against JavaScript', () => {
  it('agrees on sound files, and finds them sound', () => {
    for (const f of files) {
      expect(c.jpegStructureProblem(f)).toBeNull();
      sameVerdict(f);
    }
  });

  it('agrees on files cut short, with or without their end marker put back', () => {
    for (const f of files) {
      for (const cut of [0, 1, 2, 3, 20, Math.floor(f.length / 3), Math.floor(f.length / 2), f.length - 3, f.length - 1]) {
        const head = f.subarray(0, cut);
        sameVerdict(head);
        const ended = new Uint8Array(cut + 2);
        ended.set(head);
        ended.set([0xff, 0xd9], cut);
        sameVerdict(ended);
      }
    }
    expect(c.jpegStructureProblem(files[2]!.subarray(0, files[2]!.length >> 1))).toMatch(/truncated/);
  });

  it(`agrees on more than ${MAX_JPEG_SCANS} scans, and refuses them`, () => {
    const progressive = files[2]!;
    for (const n of [1, MAX_JPEG_SCANS - 20, MAX_JPEG_SCANS, 5000]) sameVerdict(manyScans(progressive, n));
    expect(c.jpegStructureProblem(manyScans(progressive, 5000))).toMatch(/more than 100 scans/);
  });

  it('agrees on randomly damaged files', () => {
    const damage = fc.record({
      file: fc.nat({ max: 100 }),
      edits: fc.array(fc.record({ at: fc.nat(), value: fc.constantFrom(0xff, 0x00, 0xd9, 0xda, 0xc4, 0xd0, 0xc2, 0x12, 0x80) }), { maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      endMarker: fc.boolean(),
    });
    fc.assert(
      fc.property(damage, ({ file, edits, cut, endMarker }) => {
        const source = files[file % files.length]!;
        let bytes = source.slice();
        for (const { at, value } of edits) bytes[at % bytes.length] = value;
        if (cut !== undefined) bytes = bytes.slice(0, cut % (bytes.length + 1));
        if (endMarker) {
          const ended = new Uint8Array(bytes.length + 2);
          ended.set(bytes);
          ended.set([0xff, 0xd9], bytes.length);
          bytes = ended;
        }
        sameVerdict(bytes);
      }),
      { numRuns: 600 },
    );
  });

  it('agrees on noise behind a start-of-image marker', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (noise) => {
        const bytes = new Uint8Array(noise.length + 2);
        bytes.set([0xff, 0xd8]);
        bytes.set(noise, 2);
        sameVerdict(bytes);
      }),
      { numRuns: 600 },
    );
  });
});
