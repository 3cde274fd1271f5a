/**
 * Colour management: sources with an embedded ICC profile (Display P3, Adobe RGB, ProPhoto;
 * CMYK) decode to sRGB, compared against sharp's (lcms2) conversion of the same file. The
 * fixtures are made from the corpus by sharp, which converts the sRGB photo into the profile's
 * space and embeds the profile, as a phone or a print workflow would.
 */
import { readFileSync } from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Codecs } from '../../src/render/codecs.js';
import { embeddedIcc, jpegIcc } from '../../src/render/colour/embedded-icc.js';
import { decodeSource } from '../../src/render/decode-source.js';
import { toImageData } from '../../src/render/image-data.js';
import { ADOBE_RGB, iccProfile, iccProfileFile, PROPHOTO_RGB } from '../support/icc-profile.js';
import { concatBytes, makePngChunk } from '../support/png-chunks.js';
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

  it('leaves the pixels of an sRGB-tagged source as they are', async () => {
    const tagged = new Uint8Array(await photo().withIccProfile('srgb').jpeg({ quality: 95 }).toBuffer());
    expect(jpegIcc(tagged)).toBeDefined();
    const { image } = await decodeSource(c, tagged, limits);
    expect(worst(meanAbsError(image, await c.decode('jpeg', tagged)))).toBe(0);
    expect(worst(meanAbsError(c.decodeReduced(tagged, 1)!, await c.decode('jpeg', tagged)))).toBeLessThanOrEqual(1);
  });

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
    for (const [w, format] of [
      [64, 'png'],
      [16, 'png'],
      [32, 'webp'],
    ] as const) {
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

describe('conversions kept per profile', () => {
  it('gives the same pixels as a fresh instance, with more profiles interleaved than it keeps', async () => {
    // Every profile of the list converts the same photo; the kept instance must pick each one's
    // own conversion (4 are kept: the list evicts and prepares some again).
    const pixels = await sharpSrgb(await sharp(sample('hopper.jpg')).resize(64, 64).png().toBuffer());
    const iccOf = async (profile: string) => new Uint8Array((await sharp(await sharp(sample('hopper.jpg')).resize(8, 8).withIccProfile(profile).png().toBuffer()).metadata()).icc!);
    const p3 = await iccOf('p3');
    // Other bytes (the last one flipped): a profile of its own to the instance.
    const p3Renamed = p3.slice();
    p3Renamed[p3Renamed.length - 1] = p3Renamed.at(-1)! ^ 1;
    const profiles: Record<string, Uint8Array> = {
      p3,
      adobe: iccProfile(ADOBE_RGB),
      prophoto: iccProfile(PROPHOTO_RGB),
      srgb: await iccOf('srgb'),
      p3Renamed,
    };
    const order = ['p3', 'adobe', 'prophoto', 'srgb', 'p3Renamed', 'p3', 'adobe', 'prophoto', 'p3', 'srgb'];
    const kept = await codecs();
    const converted = (c: Codecs, name: string) => c.toSrgb(toImageData(pixels.data.slice(), 64, 64), profiles[name]!).data;
    const fresh: Record<string, Uint8ClampedArray> = {};
    for (const name of Object.keys(profiles)) fresh[name] = converted(await codecs(), name);
    expect(Buffer.from(fresh.adobe!).equals(Buffer.from(fresh.p3!))).toBe(false);
    expect(Buffer.from(fresh.prophoto!).equals(Buffer.from(fresh.adobe!))).toBe(false);
    for (const name of order) expect(Buffer.from(converted(kept, name)).equals(Buffer.from(fresh[name]!)), name).toBe(true);
  });
});

/** `jpeg` with the APP2 profile segments of `from` inserted after SOI. */
function withProfileOf(jpeg: Uint8Array, from: Uint8Array): Uint8Array {
  const segments: Uint8Array[] = [];
  let i = 2;
  while (i + 4 <= from.length && from[i + 1] !== 0xda) {
    const len = (from[i + 2]! << 8) | from[i + 3]!;
    if (from[i + 1] === 0xe2) segments.push(from.subarray(i, i + 2 + len));
    i += 2 + len;
  }
  return new Uint8Array(Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]));
}

/** The Adobe APP14 colour transform (0: CMYK, 2: YCCK) and the frame's component count. */
function adobeTransform(jpeg: Uint8Array): { transform: number | undefined; components: number } {
  let i = 2;
  let transform: number | undefined;
  let components = 0;
  while (i + 4 <= jpeg.length && jpeg[i + 1] !== 0xda) {
    const len = (jpeg[i + 2]! << 8) | jpeg[i + 3]!;
    if (jpeg[i + 1] === 0xee) transform = jpeg[i + 2 + len - 1];
    if (jpeg[i + 1]! >= 0xc0 && jpeg[i + 1]! <= 0xc2) components = jpeg[i + 9]!;
    i += 2 + len;
  }
  return { transform, components };
}

describe('CMYK and YCCK JPEGs → sRGB', () => {
  let c: Codecs;
  beforeAll(async () => {
    c = await codecs();
  });
  const photo = () => sharp(sample('hopper.jpg')).resize(200, 150);
  // jpeg-encoder's YCCK (Adobe transform 2) of sharp's CMYK hopper: test/render/fixtures/make-ycck.rs.
  const ycck = new Uint8Array(readFileSync(new URL('./fixtures/hopper-ycck.jpg', import.meta.url)));

  const cases: Array<[string, () => Promise<Uint8Array>, number]> = [
    ['Adobe-inverted CMYK with its profile', async () => new Uint8Array(await photo().withIccProfile('cmyk').jpeg({ quality: 95 }).toBuffer()), 0],
    ['Adobe-inverted CMYK without a profile', async () => new Uint8Array(await photo().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer()), 0],
    ['YCCK without a profile', async () => ycck, 2],
    ['YCCK with a profile', async () => withProfileOf(ycck, new Uint8Array(await photo().withIccProfile('cmyk').jpeg().toBuffer())), 2],
  ];
  for (const [label, make, transform] of cases) {
    it(`${label}: within 2 levels of sharp's conversion, at full size and reduced`, async () => {
      const bytes = await make();
      expect(adobeTransform(bytes)).toEqual({ transform, components: 4 });
      const reference = await sharpSrgb(Buffer.from(bytes));
      const { image, denominator } = await decodeSource(c, bytes, limits);
      expect(denominator).toBe(1);
      expect(worst(meanAbsError(image, reference))).toBeLessThanOrEqual(2);
      // At 1/2 scale: against sharp's sRGB pixels box-shrunk by 2 (looser: the IDCT differs).
      const half = await decodeSource(c, bytes, limits, { denominator: () => 2 });
      expect([half.image.width, half.image.height, half.denominator]).toEqual([Math.ceil(reference.width / 2), Math.ceil(reference.height / 2), 2]);
      const shrunk = await sharp(Buffer.from(reference.data.buffer), { raw: { width: reference.width, height: reference.height, channels: 4 } })
        .resize(half.image.width, half.image.height, { kernel: 'cubic' })
        .raw()
        .toBuffer();
      expect(worst(meanAbsError(half.image, toImageData(new Uint8ClampedArray(shrunk), half.image.width, half.image.height)))).toBeLessThanOrEqual(4);
    });
  }

  it('renders a CMYK JPEG end to end (was 422 DECODE_FAILED)', async () => {
    const bytes = new Uint8Array(await photo().withIccProfile('cmyk').jpeg({ quality: 95 }).toBuffer());
    // The same picture as sharp converts it to sRGB, losslessly: what the render should look like.
    const png = new Uint8Array(await sharp(Buffer.from(bytes)).toColourspace('srgb').png().toBuffer());
    // ... and as an sRGB JPEG, which a 32 px render also decodes at 1/4 scale (that scale alone
    // moves an sRGB JPEG's render ~6 levels from the PNG's).
    const jpeg = new Uint8Array(await sharp(Buffer.from(bytes)).toColourspace('srgb').jpeg({ quality: 95 }).toBuffer());
    const r = await renderer();
    // (Lossless PNG output at 32 px too, so JPEG's own noise at that size stays out of the figure.)
    for (const [w, format, reference, max] of [
      [150, 'png', png, 2],
      [64, 'webp', png, 3],
      [32, 'png', jpeg, 4],
    ] as const) {
      const out = await decodeOutput((await r.render(bytes, variant(w, w, 'cover', format, 90))).body);
      const expected = await decodeOutput((await r.render(reference, variant(w, w, 'cover', format, 90))).body);
      expect([out.width, out.height]).toEqual([w, w]);
      expect(worst(meanAbsError(out, expected))).toBeLessThanOrEqual(max);
    }
  });
});

/** The whole chunk of this type in `png` (length to CRC). */
function pngChunk(png: Uint8Array, type: string): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let i = 8; i + 12 <= png.length; ) {
    const len = view.getUint32(i);
    if (new TextDecoder().decode(png.subarray(i + 4, i + 8)) === type) return png.subarray(i, i + 12 + len);
    i += 12 + len;
  }
  throw new Error(`no ${type} chunk`);
}

/** `png` with `chunks` put right after IHDR. */
function withChunks(png: Uint8Array, chunks: Uint8Array[]): Uint8Array {
  const ihdrEnd = 8 + 8 + 13 + 4;
  return concatBytes([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/** `png` with gAMA (encoding exponent) and cHRM (white, red, green, blue x/y) chunks, and no iCCP. */
function withGammaChunks(png: Uint8Array, gamma: number | undefined, chrm?: number[]): Uint8Array {
  const fixed = (values: number[]) => {
    const data = new Uint8Array(4 * values.length);
    values.forEach((v, i) => new DataView(data.buffer).setUint32(4 * i, Math.round(v * 100_000)));
    return data;
  };
  return withChunks(png, [...(gamma !== undefined ? [makePngChunk('gAMA', fixed([gamma]))] : []), ...(chrm ? [makePngChunk('cHRM', fixed(chrm))] : [])]);
}

/**
 * The corpus photo at 128×128 converted into Display P3 and tagged with its profile, as a PNG
 * (sharp's conversion of it to sRGB is the reference); its numbers, read ignoring the profile,
 * are what a file tagged some other way carries.
 */
async function p3Fixture() {
  const pixels = await sharp(sample('hopper.jpg')).resize(128, 128).removeAlpha().raw().toBuffer();
  const raw = { raw: { width: 128, height: 128, channels: 3 as const } };
  return { raw, tagged: await sharp(pixels, raw).withIccProfile('p3').png().toBuffer() };
}

describe('PNG gAMA and cHRM (no iCCP) → sRGB, as browsers read them', () => {
  // Display P3: DCI-P3 primaries, D65 white, the sRGB curve (gAMA 1/2.2 stands for it).
  const P3 = [0.3127, 0.329, 0.68, 0.32, 0.265, 0.69, 0.15, 0.06];
  const untagged = async () => new Uint8Array(await sharp(sample('hopper.jpg')).resize(128, 128).png().toBuffer());

  it('cHRM with Display P3 primaries and gAMA 1/2.2: within 2 levels of sharp converting the same pixels by the Display P3 profile', async () => {
    const c = await codecs();
    // The same pixels, once tagged by an iCCP Display P3 profile (sharp's reference), once by the chunks.
    const { raw, tagged } = await p3Fixture();
    const p3Pixels = await sharp(tagged, { ignoreIcc: true }).removeAlpha().raw().toBuffer();
    const chunked = withGammaChunks(new Uint8Array(await sharp(p3Pixels, raw).png().toBuffer()), 1 / 2.2, P3);
    const reference = await sharpSrgb(tagged);
    const ours = await c.decode('png', chunked);
    expect(worst(meanAbsError(ours, reference))).toBeLessThanOrEqual(2);
    const unconverted = await c.decode('png', new Uint8Array(await sharp(p3Pixels, raw).png().toBuffer()));
    expect(worst(meanAbsError(unconverted, reference))).toBeGreaterThan(3);
  });

  it('gAMA alone other than 1/2.2 is a power curve on sRGB primaries; gAMA 1/2.2 alone changes nothing', async () => {
    const c = await codecs();
    const png = await untagged();
    const plain = await c.decode('png', png);
    const mac = await c.decode('png', withGammaChunks(png, 1 / 1.8));
    // Each level v means (v/255)^1.8 in light; in sRGB that is the sRGB curve of it.
    const srgb = (l: number) => 255 * (l <= 0.0031308 ? 12.92 * l : 1.055 * l ** (1 / 2.4) - 0.055);
    const expected = toImageData(plain.data.map((v, i) => (i % 4 === 3 ? v : srgb((v / 255) ** 1.8))) as Uint8ClampedArray, 128, 128);
    expect(worst(meanAbsError(mac, expected))).toBeLessThanOrEqual(1);
    expect(worst(meanAbsError(mac, plain))).toBeGreaterThan(5);
    expect(worst(meanAbsError(await c.decode('png', withGammaChunks(png, 1 / 2.2)), plain))).toBe(0);
  });
});

describe('AVIF colour named by CICP only (nclx, no ICC profile) → sRGB', () => {
  /** Sets the primaries and transfer codes of the AVIF's nclx box (same size: nothing else moves). */
  function withCicp(avif: Uint8Array, primaries: number, transfer: number): Uint8Array {
    const out = avif.slice();
    const text = Buffer.from(out).toString('latin1');
    const at = text.indexOf('colrnclx');
    expect(at).toBeGreaterThan(0);
    out.set([primaries >> 8, primaries & 0xff, transfer >> 8, transfer & 0xff], at + 8);
    return out;
  }

  it('Display P3 primaries (12) with the sRGB curve: within 1 level of sharp converting the same numbers by the Display P3 profile; BT.709 untouched', async () => {
    const c = await codecs();
    const { tagged } = await p3Fixture();
    const p3Numbers = await sharp(tagged, { ignoreIcc: true }).ensureAlpha().raw().toBuffer();
    const encoded = await c.encode('avif', toImageData(new Uint8ClampedArray(p3Numbers), 128, 128), 100);
    // AVIF is lossy (~2–4 levels here): the reference is sharp's conversion of the numbers as
    // decoded, in a PNG given the Display P3 profile's iCCP chunk.
    const decoded = (await decodeSource(c, encoded, limits)).image;
    const decodedPng = new Uint8Array(
      await sharp(Buffer.from(decoded.data.buffer), { raw: { width: 128, height: 128, channels: 4 } })
        .png()
        .toBuffer(),
    );
    const reference = await sharpSrgb(Buffer.from(withChunks(decodedPng, [pngChunk(new Uint8Array(tagged), 'iCCP')])));
    const p3 = (await decodeSource(c, withCicp(encoded, 12, 13), limits)).image;
    expect(worst(meanAbsError(p3, reference))).toBeLessThanOrEqual(1);
    // The same file labelled BT.709 (or left unspecified, as our encoder writes it) is taken as sRGB: the numbers as they are.
    for (const [primaries, transfer] of [
      [1, 13],
      [2, 2],
    ]) {
      const plain = (await decodeSource(c, withCicp(encoded, primaries!, transfer!), limits)).image;
      expect(worst(meanAbsError(plain, reference)), `${primaries}/${transfer}`).toBeGreaterThan(3);
      expect(worst(meanAbsError(plain, decoded)), `${primaries}/${transfer}`).toBe(0);
    }
  });
});
