/**
 * Colour management: sources with an embedded ICC profile (Display P3, Adobe RGB, ProPhoto;
 * CMYK) decode to sRGB, compared against sharp's (lcms2) conversion of the same file. The
 * fixtures are made from the corpus by sharp, which converts the sRGB photo into the profile's
 * space and embeds the profile, as a phone or a print workflow would.
 */
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Codecs } from '../../src/render/codecs.js';
import { embeddedIcc, jpegIcc } from '../../src/render/colour/embedded-icc.js';
import { decodeSource } from '../../src/render/decode-source.js';
import { toImageData } from '../../src/render/image-data.js';
import { ADOBE_RGB, iccProfileFile, PROPHOTO_RGB } from '../support/icc-profile.js';
import { codecs, decodeOutput, meanAbsError, pixel, renderer, sample, variant } from './helpers.js';

const limits = { maxSourceBytes: 50_000_000, maxSourcePixels: 50_000_000 };

/** sharp's own conversion of `file` to sRGB, as RGBA. */
async function sharpSrgb(file: Buffer): Promise<ImageData> {
  const { data, info } = await sharp(file).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return toImageData(new Uint8ClampedArray(data), info.width, info.height);
}

const worst = (mae: number[]) => Math.max(...mae.slice(0, 3));

describe('ICC profiles → sRGB', () => {
  let c: Codecs;
  beforeAll(async () => {
    c = await codecs();
  });

  const photo = () => sharp(sample('hopper.jpg')).resize(256, 256);
  const cases: Array<[string, () => Sharp]> = [
    ['Display P3 JPEG', () => photo().withIccProfile('p3').jpeg({ quality: 95 })],
    ['Display P3 PNG (iCCP)', () => photo().withIccProfile('p3').png()],
    ['Display P3 WebP (ICCP)', () => photo().withIccProfile('p3').webp({ quality: 95 })],
    ['Adobe RGB JPEG', () => photo().withIccProfile(iccProfileFile(ADOBE_RGB)).jpeg({ quality: 95 })],
    ['ProPhoto JPEG', () => photo().withIccProfile(iccProfileFile(PROPHOTO_RGB)).jpeg({ quality: 95 })],
  ];

  for (const [label, make] of cases) {
    it(`${label}: within 2 levels of sharp's conversion, and far from the unconverted pixels`, async () => {
      const file = await make().toBuffer();
      const bytes = new Uint8Array(file);
      const reference = await sharpSrgb(file);
      const { info, image } = await decodeSource(c, bytes, limits);
      expect(worst(meanAbsError(image, reference))).toBeLessThanOrEqual(2);
      if (info.format === 'jpeg') {
        // The project's JPEG decoder (reduced-scale renders) converts by the profile itself.
        const ours = c.decodeReduced(bytes, 1)!;
        expect(worst(meanAbsError(ours, reference))).toBeLessThanOrEqual(2);
      }
      // The fixture means something: the same pixels without the conversion are well off.
      const data = await sharp(file, { ignoreIcc: true }).toColourspace('srgb').ensureAlpha().raw().toBuffer();
      const unconverted = toImageData(new Uint8ClampedArray(data), 256, 256);
      expect(worst(meanAbsError(unconverted, reference))).toBeGreaterThan(3);
    });
  }

  it('keeps alpha while converting a P3 PNG with transparency', async () => {
    const file = await sharp(sample('mysha.png')).resize(128).withIccProfile('p3').png().toBuffer();
    const reference = await sharpSrgb(file);
    const { image } = await decodeSource(c, new Uint8Array(file), limits);
    const mae = meanAbsError(image, reference);
    expect(worst(mae)).toBeLessThanOrEqual(2);
    expect(mae[3]).toBe(0);
  });

  it('renders pure sRGB green stored as Display P3 as (0, 255, 0), not the P3 numbers', async () => {
    const green = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 0, g: 255, b: 0 } } })
      .withIccProfile('p3')
      .jpeg({ quality: 100 })
      .toBuffer();
    const stored = await c.decode('jpeg', new Uint8Array(green));
    // The file really holds P3 numbers (~ (117, 251, 76)).
    expect(pixel(stored, 32, 32)[0]).toBeGreaterThan(90);
    const r = await renderer();
    for (const [w, format] of [[64, 'png'], [16, 'png'], [32, 'webp']] as const) {
      const out = await decodeOutput((await r.render(new Uint8Array(green), variant(w, w, 'cover', format, 100))).body);
      const [red, g, b] = pixel(out, w / 2, w / 2);
      expect(red).toBeLessThanOrEqual(format === 'webp' ? 8 : 3);
      expect(g).toBeGreaterThanOrEqual(250);
      expect(b).toBeLessThanOrEqual(format === 'webp' ? 8 : 3);
    }
  });

  it('reads JPEG APP2 profiles split over several segments, and WebP ICCP', async () => {
    // sharp's CMYK profile is ~940 KB: 15 APP2 segments of at most 65,519 bytes each.
    const cmyk = await photo().withIccProfile('cmyk').jpeg().toBuffer();
    const meta = await sharp(cmyk).metadata();
    const icc = jpegIcc(new Uint8Array(cmyk))!;
    expect(icc.length).toBe(meta.icc!.length);
    expect(Buffer.from(icc).equals(meta.icc!)).toBe(true);
    const webp = await photo().withIccProfile('p3').webp().toBuffer();
    expect(Buffer.from(embeddedIcc('webp', new Uint8Array(webp))!).equals((await sharp(webp).metadata()).icc!)).toBe(true);
    // No profile: nothing found.
    expect(embeddedIcc('jpeg', sample('hopper.jpg'))).toBeUndefined();
    expect(embeddedIcc('webp', sample('mysha-webp.webp'))).toBeUndefined();
  });

  it('takes a source whose profile is damaged as sRGB rather than refusing it', async () => {
    const file = new Uint8Array(await photo().withIccProfile('p3').jpeg().toBuffer());
    const icc = jpegIcc(file)!;
    const at = Buffer.from(file).indexOf(Buffer.from(icc.subarray(0, 64)));
    const damaged = file.slice();
    damaged.fill(0x41, at + 36, at + 40); // the 'acsp' signature
    const { image } = await decodeSource(c, damaged, limits);
    const plain = await c.decode('jpeg', damaged);
    expect(worst(meanAbsError(image, plain))).toBe(0);
    expect(worst(meanAbsError(c.decodeReduced(damaged, 1)!, plain))).toBeLessThanOrEqual(1);
  });
});
