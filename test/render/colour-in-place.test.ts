/**
 * Pixels decoded elsewhere (mozjpeg, libwebp) are converted to sRGB where they lie in
 * WebAssembly memory (wasm/jpeg-scaled/src/lib.rs `to_srgb`, codecs.ts `toSrgb`): the module
 * grows by no copy of the image, and the result is the same as converting a copy.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { embeddedIcc } from '../../src/render/colour/embedded-icc.js';
import { toImageData } from '../../src/render/image-data.js';
import type { DecoderExports } from '../../src/render/wasm-decoder.js';
import { codecModules, codecs, meanAbsError, SAMPLES } from './helpers.js';

describe('colour conversion in place', () => {
  it('converts a Display P3 image without a second copy of it in WebAssembly memory', async () => {
    const [width, height] = [1600, 1200];
    const photo = sharp(`${SAMPLES}seeding.jpg`).resize(width, height);
    const p3 = new Uint8Array(await photo.clone().withIccProfile('p3').jpeg({ quality: 95 }).toBuffer());
    const icc = embeddedIcc('jpeg', p3);
    if (!icc) throw new Error('sharp wrote no profile');
    // The P3 numbers, as mozjpeg gives them (it ignores the profile).
    const c = await codecs();
    const decoded = await c.decode('jpeg', p3);
    expect([decoded.width, decoded.height]).toEqual([width, height]);
    const pixels = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength);

    const ex = new WebAssembly.Instance((await codecModules()).jpegScaled, {}).exports as unknown as DecoderExports;
    const len = pixels.length + icc.length;
    const at = ex.input_alloc(len);
    const memory = new Uint8Array(ex.memory.buffer, at, len);
    memory.set(pixels);
    memory.set(icc, pixels.length);
    const withInput = ex.memory.buffer.byteLength;
    expect(ex.to_srgb(len, icc.length, width, height)).toBe(0);
    // Converting a copy would grow the memory by the image's 7.7 MB; in place, by the
    // transform's working rows and tables at most.
    expect(ex.memory.buffer.byteLength - withInput).toBeLessThan(2 * 1024 * 1024);
    expect(ex.output_len()).toBe(pixels.length);
    const converted = toImageData(new Uint8ClampedArray(new Uint8Array(ex.memory.buffer, ex.output_ptr(), ex.output_len())), width, height);

    // The same as codecs.ts toSrgb's, and as sharp's own conversion (lcms2) of the file.
    const viaCodecs = c.toSrgb(toImageData(new Uint8ClampedArray(pixels), width, height), icc);
    expect(Buffer.from(viaCodecs.data).equals(Buffer.from(converted.data))).toBe(true);
    const { data, info } = await sharp(p3).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const reference = toImageData(new Uint8ClampedArray(data), info.width, info.height);
    expect(Math.max(...meanAbsError(converted, reference).slice(0, 3))).toBeLessThan(1);
  });
});
