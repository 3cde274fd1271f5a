/**
 * The pixel fast path of codecs.ts: a full-size JPEG decode (mozjpeg) with a DecodeInto reads the decoder's
 * output in WebAssembly memory, which works only while the jsquash glue builds its result with
 * the global `Uint8ClampedArray` looked up at its first decode. If an upgrade changes that, the
 * decode silently falls back to the full-size copy (right pixels, 4 bytes a pixel more memory):
 * this test is what notices. (PNG and WebP decoders are the project's own, with a C ABI that
 * hands out the output's address: test/render/webp-decode.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { SourceFormat } from '../../src/core/image/sniff.js';
import { decodeIntoPaths, LARGE_DECODE_PIXELS, type DecodeInto } from '../../src/render/codecs.js';
import { codecs, sample } from './helpers.js';

/** A DecodeInto whose `use` keeps a copy of the pixels it was handed (as a master's shrink keeps its result). */
function keepCopy(width: number, height: number): DecodeInto {
  return { width, height, use: (image) => new ImageData(new Uint8ClampedArray(image.data), image.width, image.height) };
}

const same = (a: ImageData, b: ImageData) =>
  a.width === b.width && a.height === b.height && Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));

describe('decoding into a DecodeInto reads the pixels in WebAssembly memory', () => {
  const large = sample('free.jpg'); // 2880×2160: past LARGE_DECODE_PIXELS, so its decoder is replaced afterwards
  const sources: Array<[SourceFormat, string, () => Promise<Uint8Array>]> = [
    ['jpeg', 'hopper.jpg', async () => sample('hopper.jpg')],
    ['jpeg', 'free.jpg', async () => large],
  ];

  it('for JPEG, small and large, on fresh and reused decoder instances, with the pixels of a plain decode', async () => {
    const c = await codecs();
    const seen: string[] = [];
    // A plain decode to compare with, then the same source twice with `into`: the small ones on
    // an instance that already decoded, the large ones each on a fresh instance (a large decode
    // replaces its decoder), whose first decode is the one that looks Uint8ClampedArray up.
    for (const [format, name, bytes] of sources) {
      const input = await bytes();
      const plain = await c.decode(format, input);
      for (const round of [1, 2]) {
        const before = { ...decodeIntoPaths };
        const got = await c.decode(format, input, keepCopy(plain.width, plain.height));
        const path = decodeIntoPaths.captured === before.captured + 1 && decodeIntoPaths.copied === before.copied ? 'captured' : 'copied';
        seen.push(`${name} #${round}: ${path}, ${same(got, plain) ? 'same pixels' : 'different pixels'}`);
      }
      if (name === 'free.jpg') expect(plain.width * plain.height).toBeGreaterThanOrEqual(LARGE_DECODE_PIXELS);
    }
    expect(seen).toEqual(sources.flatMap(([, name]) => [1, 2].map((round) => `${name} #${round}: captured, same pixels`)));
  });

  it('counts a decode whose size the caller got wrong as copied, and still answers', async () => {
    const c = await codecs();
    const input = sample('hopper.jpg');
    const before = { ...decodeIntoPaths };
    await expect(c.decode('jpeg', input, keepCopy(10, 10))).resolves.toMatchObject({ width: 512, height: 512 });
    expect(decodeIntoPaths).toEqual({ captured: before.captured, copied: before.copied + 1 });
  });
});
