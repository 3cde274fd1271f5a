/**
 * Damaged GIF, AVIF and animated WebP sources: every one either decodes or is refused with a
 * 4xx HttpError (never another exception), and the decoders keep working afterwards.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isHttpError } from '../../src/core/errors.js';
import { decodeSource } from '../../src/render/decode-source.js';
import { codecs, sample } from './helpers.js';

const limits = { maxSourceBytes: 50_000_000, maxSourcePixels: 50_000_000 };

/** Deterministic damage: cuts at many offsets, and runs of bytes overwritten. */
function damaged(file: Uint8Array, count: number): Uint8Array[] {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const out: Uint8Array[] = [];
  for (let i = 1; i <= count; i++) out.push(file.slice(0, Math.floor((file.length * i) / (count + 1))));
  for (let i = 0; i < count; i++) {
    const copy = file.slice();
    const at = 16 + Math.floor(random() * (copy.length - 32));
    for (let k = 0; k < 8; k++) copy[at + k] = Math.floor(random() * 256);
    out.push(copy);
  }
  return out;
}

describe('damaged sources in the new formats', () => {
  it('decode or are refused with 4xx, and the decoders still work', async () => {
    const c = await codecs();
    const frame = (file: string) => sharp(sample(file)).resize(120, 90, { fit: 'fill' }).png().toBuffer();
    const [a, b] = [await frame('hopper.jpg'), await frame('plant.png')];
    const files: Array<[string, Uint8Array]> = [
      [
        'gif',
        new Uint8Array(
          await sharp([a, b], { join: { animated: true } })
            .gif()
            .toBuffer(),
        ),
      ],
      ['avif', new Uint8Array(await sharp(a).avif().toBuffer())],
      [
        'animated webp',
        new Uint8Array(
          await sharp([a, b], { join: { animated: true } })
            .webp()
            .toBuffer(),
        ),
      ],
      ['cmyk jpeg', new Uint8Array(await sharp(a).withIccProfile('cmyk').jpeg().toBuffer())],
    ];
    for (const [label, file] of files) {
      const intact = (await decodeSource(c, file, limits)).image;
      let refused = 0;
      for (const bad of damaged(file, 20)) {
        try {
          const { image } = await decodeSource(c, bad, limits);
          expect(image.data.length, label).toBe(image.width * image.height * 4);
        } catch (err) {
          expect(isHttpError(err) && err.status >= 400 && err.status < 500, `${label}: ${String(err)}`).toBe(true);
          refused++;
        }
      }
      expect(refused, label).toBeGreaterThan(0);
      const again = (await decodeSource(c, file, limits)).image;
      expect(Buffer.from(again.data).equals(Buffer.from(intact.data)), label).toBe(true);
    }
  });
});
