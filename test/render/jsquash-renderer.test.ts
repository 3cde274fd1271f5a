import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/core/errors.js';
import { sniffImage } from '../../src/core/image/sniff.js';
import type { Format } from '../../src/core/variant.js';
import { decodeSource } from '../../src/render/decode-source.js';
import type { Codecs } from '../../src/render/codecs.js';
import { codecs, decodeOutput, meanAbsError, pixel, renderer, sample, solid, variant, withExifOrientation } from './helpers.js';

async function renderError(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    return e as HttpError;
  }
  throw new Error('expected the render to fail');
}

const near = (got: number[], want: number[], tol: number) => got.every((v, i) => Math.abs(v - (want[i] as number)) <= tol);

describe('output geometry', () => {
  // plant.png is 500×333 RGBA, hopper.jpg 512×512.
  const CASES: [string, number, number, 'cover' | 'contain' | 'inside', number, number][] = [
    ['plant.png', 100, 100, 'cover', 100, 100],
    ['plant.png', 50, 120, 'cover', 50, 120],
    ['plant.png', 100, 100, 'contain', 100, 100],
    ['plant.png', 100, 100, 'inside', 100, 67],
    ['plant.png', 800, 800, 'inside', 500, 333],
    ['plant.png', 800, 600, 'cover', 800, 600],
    ['plant.png', 250, 0, 'cover', 250, 167],
    ['plant.png', 0, 100, 'contain', 150, 100],
    ['plant.png', 0, 0, 'inside', 500, 333],
    ['hopper.jpg', 64, 48, 'contain', 64, 48],
    ['hopper.jpg', 300, 100, 'inside', 100, 100],
    ['hopper.jpg', 1024, 0, 'cover', 512, 512],
  ];
  for (const [file, w, h, fit, ew, eh] of CASES) {
    it(`${file} ${w}×${h} ${fit} → ${ew}×${eh}`, async () => {
      const r = await renderer();
      const out = await r.render(sample(file), variant(w, h, fit, 'webp'));
      expect([out.width, out.height]).toEqual([ew, eh]);
      const decoded = await decodeOutput(out.body);
      expect([decoded.width, decoded.height]).toEqual([ew, eh]);
    });
  }
});

describe('output formats', () => {
  for (const format of ['webp', 'jpeg', 'png'] as Format[]) {
    it(`${format} output decodes back at the expected size and reports timings`, async () => {
      const r = await renderer();
      const out = await r.render(sample('hopper.jpg'), variant(120, 90, 'cover', format, 80));
      expect(sniffImage(out.body)).toMatchObject({ format, width: 120, height: 90 });
      const decoded = await decodeOutput(out.body);
      expect([decoded.width, decoded.height]).toEqual([120, 90]);
      for (const k of ['decode', 'resize', 'encode'] as const) expect(out.timings[k]).toBeGreaterThanOrEqual(0);
    });
  }

  it('quality changes the size of lossy output', async () => {
    const r = await renderer();
    const lo = await r.render(sample('hopper.jpg'), variant(200, 200, 'cover', 'jpeg', 30));
    const hi = await r.render(sample('hopper.jpg'), variant(200, 200, 'cover', 'jpeg', 95));
    expect(hi.body.length).toBeGreaterThan(lo.body.length * 1.5);
  });

  it('JPEG output is baseline, not progressive (SOF0)', async () => {
    const out = await (await renderer()).render(sample('hopper.jpg'), variant(64, 64, 'cover', 'jpeg'));
    const sof = out.body.findIndex((b, i) => b === 0xff && [0xc0, 0xc2].includes(out.body[i + 1] ?? 0));
    expect(out.body[sof + 1]).toBe(0xc0);
  });

  it('renders the WebP sample with alpha', async () => {
    const out = await (await renderer()).render(sample('mysha-webp.webp'), variant(64, 64, 'cover', 'png'));
    expect(sniffImage(out.body)).toMatchObject({ format: 'png', width: 64, height: 64 });
  });
});

describe('alpha', () => {
  it('flattens transparent pixels onto white for JPEG and keeps them transparent for PNG', async () => {
    const src = sample('mysha.png');
    const original = await (await codecs()).decode('png', src);
    // A fully transparent source pixel, away from the edges of the opaque area.
    let at = -1;
    for (let i = 0; i < original.width * original.height; i++) if (original.data[i * 4 + 3] === 0) at = i;
    expect(at).toBeGreaterThanOrEqual(0);
    const [x, y] = [at % original.width, Math.floor(at / original.width)];

    const r = await renderer();
    const jpeg = await decodeOutput((await r.render(src, variant(0, 0, 'cover', 'jpeg', 90))).body);
    const [jr, jg, jb] = pixel(jpeg, x, y);
    expect(Math.min(jr, jg, jb)).toBeGreaterThanOrEqual(245);

    const png = await decodeOutput((await r.render(src, variant(0, 0, 'cover', 'png'))).body);
    expect(pixel(png, x, y)[3]).toBe(0);
  });

  it('contain letterboxes transparent for WebP/PNG and white for JPEG', async () => {
    const r = await renderer();
    // hopper is square: a 100×50 contain box leaves 25 px bars left and right.
    const png = await decodeOutput((await r.render(sample('hopper.jpg'), variant(100, 50, 'contain', 'png'))).body);
    expect(pixel(png, 2, 25)[3]).toBe(0);
    expect(pixel(png, 50, 25)[3]).toBe(255);
    const webp = await decodeOutput((await r.render(sample('hopper.jpg'), variant(100, 50, 'contain', 'webp'))).body);
    expect(pixel(webp, 97, 25)[3]).toBe(0);
    const jpeg = await decodeOutput((await r.render(sample('hopper.jpg'), variant(100, 50, 'contain', 'jpeg', 90))).body);
    expect(near(pixel(jpeg, 2, 25), [255, 255, 255, 255], 6)).toBe(true);
  });
});

describe('EXIF orientation', () => {
  // 64×32 stored: left half red, right half blue.
  async function orientedJpeg(orientation: number): Promise<Uint8Array> {
    const c = await codecs();
    const plain = await c.encode('jpeg', solid(64, 32, [255, 0, 0, 255], [0, 0, 255, 255]), 92);
    return withExifOrientation(plain, orientation);
  }
  const RED = [255, 0, 0, 255];
  const BLUE = [0, 0, 255, 255];

  it('the synthetic source carries orientation 6 and its stored size', async () => {
    expect(sniffImage(await orientedJpeg(6))).toEqual({ format: 'jpeg', width: 64, height: 32, hasAlpha: false, orientation: 6 });
  });

  it('orientation 6 (rotate 90° CW) renders portrait with the left half on top', async () => {
    const r = await renderer();
    const out = await r.render(await orientedJpeg(6), variant(0, 0, 'inside', 'png'));
    expect([out.width, out.height]).toEqual([32, 64]);
    const img = await decodeOutput(out.body);
    expect(near(pixel(img, 16, 8), RED, 12)).toBe(true);
    expect(near(pixel(img, 16, 56), BLUE, 12)).toBe(true);
  });

  it('orientation 8 (rotate 90° CCW) puts the right half on top', async () => {
    const img = await decodeOutput((await (await renderer()).render(await orientedJpeg(8), variant(0, 0, 'inside', 'png'))).body);
    expect([img.width, img.height]).toEqual([32, 64]);
    expect(near(pixel(img, 16, 8), BLUE, 12)).toBe(true);
    expect(near(pixel(img, 16, 56), RED, 12)).toBe(true);
  });

  it('fit geometry uses the displayed size (portrait), with resize and crop', async () => {
    const r = await renderer();
    const src = await orientedJpeg(6);
    const inside = await r.render(src, variant(100, 32, 'inside', 'webp'));
    expect([inside.width, inside.height]).toEqual([16, 32]);
    const cover = await decodeOutput((await r.render(src, variant(16, 8, 'cover', 'png'))).body);
    expect([cover.width, cover.height]).toEqual([16, 8]);
    // The centre crop of a red-over-blue portrait is a red top and a blue bottom.
    expect(near(pixel(cover, 8, 1), RED, 20)).toBe(true);
    expect(near(pixel(cover, 8, 6), BLUE, 20)).toBe(true);
  });
});

describe('refusals are 422 HttpErrors, never plain errors', () => {
  it('a tiny file whose header claims 20000×20000 is SOURCE_TOO_LARGE without decoding', async () => {
    // A real 1×1 PNG with its IHDR dimensions patched.
    const png = await (await codecs()).encode('png', solid(1, 1, [0, 0, 0, 255]), 100);
    const dv = new DataView(png.buffer, png.byteOffset);
    dv.setUint32(16, 20000);
    dv.setUint32(20, 20000);
    const neverDecode = {
      decode: () => {
        throw new Error('decode must not be called');
      },
    } as unknown as Codecs;
    const limits = { maxSourceBytes: 25 << 20, maxSourcePixels: 50_000_000 };
    const direct = await renderError(decodeSource(neverDecode, png, limits));
    expect([direct.status, direct.code]).toEqual([422, 'SOURCE_TOO_LARGE']);
    const viaRenderer = await renderError((await renderer()).render(png, variant(64, 64)));
    expect([viaRenderer.status, viaRenderer.code]).toEqual([422, 'SOURCE_TOO_LARGE']);
    expect(viaRenderer.message).toContain('50000000 pixels');
  });

  it('the byte limit comes from the renderer options', async () => {
    const e = await renderError((await renderer({ limits: { maxSourceBytes: 1000, maxSourcePixels: 50_000_000 } })).render(sample('hopper.jpg'), variant(64, 64)));
    expect([e.status, e.code]).toEqual([422, 'SOURCE_TOO_LARGE']);
    expect(e.message).toContain('1000 bytes');
  });

  it('non-images are UNSUPPORTED_FORMAT', async () => {
    const e = await renderError((await renderer()).render(new TextEncoder().encode('GIF89a, or just some text that is no image'), variant(64, 64)));
    expect([e.status, e.code]).toEqual([422, 'UNSUPPORTED_FORMAT']);
  });

  it('garbage behind valid-looking JPEG, PNG and WebP headers is DECODE_FAILED, and the codecs still work after', async () => {
    const r = await renderer();
    let seed = 1;
    const noise = (n: number) => new Uint8Array(n).map(() => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16);
    const withNoise = (head: Uint8Array) => {
      const b = noise(4096);
      b.set(head);
      return b;
    };
    const hopper = sample('hopper.jpg');
    // JPEG: SOI + real headers up to the frame header, then noise.
    const jpegHead = hopper.subarray(0, hopper.findIndex((v, i) => v === 0xff && hopper[i + 1] === 0xc2) + 19);
    const mysha = sample('mysha.png');
    const pngHead = mysha.subarray(0, 33); // signature + IHDR
    const webpHead = sample('mysha-webp.webp').subarray(0, 25); // RIFF + VP8L header
    for (const [name, head] of [
      ['jpeg', jpegHead],
      ['png', pngHead],
      ['webp', webpHead],
    ] as const) {
      const garbage = withNoise(head);
      expect(sniffImage(garbage)?.format, name).toBe(name);
      for (let attempt = 0; attempt < 3; attempt++) {
        const e = await renderError(r.render(garbage, variant(64, 64)));
        expect([e.status, e.code], name).toEqual([422, 'DECODE_FAILED']);
      }
    }
    const ok = await r.render(hopper, variant(32, 32));
    expect([ok.width, ok.height]).toEqual([32, 32]);
  });

  it('the JPEG decoder survives many corrupt files (mozjpeg used to break for good after 71)', async () => {
    const r = await renderer();
    const hopper = sample('hopper.jpg');
    // Noise after real headers: mozjpeg gets as far as entropy decoding before its error exit.
    let seed = 1;
    const garbage = new Uint8Array(4096).map(() => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16);
    garbage.set(hopper.subarray(0, hopper.findIndex((v, i) => v === 0xff && hopper[i + 1] === 0xc2) + 19));
    for (let i = 0; i < 80; i++) {
      const e = await renderError(r.render(garbage, variant(16, 16)));
      expect(e.code).toBe('DECODE_FAILED');
    }
    const ok = await r.render(hopper, variant(32, 32));
    expect([ok.width, ok.height]).toEqual([32, 32]);
  });

  it('a truncated PNG is refused before it reaches the decoder, a corrupted one by the decoder', async () => {
    const r = await renderer();
    const mysha = sample('mysha.png');
    const truncated = await renderError(r.render(mysha.subarray(0, mysha.length - 100), variant(16, 16)));
    expect([truncated.code, String(truncated.cause)]).toEqual(['DECODE_FAILED', expect.stringContaining('truncated')]);
    const flipped = mysha.slice();
    flipped[5000] = (flipped[5000] ?? 0) ^ 0xff;
    const corrupt = await renderError(r.render(flipped, variant(16, 16)));
    // Byte 5000 is in IDAT, whose CRCs the decoder checks (png-check.ts checks the other chunks').
    expect([corrupt.code, String(corrupt.cause)]).toEqual(['DECODE_FAILED', expect.stringContaining('CRC error')]);
  });
});

describe('concurrency and warm-up', () => {
  it('parallel renders give the same pixels as one at a time', async () => {
    const r = await renderer();
    const v = variant(96, 96, 'cover', 'png');
    const alone = await r.render(sample('plant.png'), v);
    const together = await Promise.all([0, 1, 2].map(() => r.render(sample('plant.png'), v)));
    for (const t of together) expect(meanAbsError(await decodeOutput(t.body), await decodeOutput(alone.body))).toEqual([0, 0, 0, 0]);
  });

  it('warmUp runs every codec once and checks the results', async () => {
    const report = await (await renderer()).warmUp();
    expect(Object.keys(report).sort()).toEqual(['jpeg reduced decode', 'jpeg→png', 'png→webp', 'webp→jpeg']);
  });

  it('warmUp with photoWarmUp also renders photo-like sources of every kind, each checked', async () => {
    const report = await (await renderer({ photoWarmUp: true })).warmUp();
    expect(Object.keys(report).sort()).toEqual(['jpeg reduced decode', 'jpeg→png', 'photo renders', 'png→webp', 'webp→jpeg']);
  });
});

describe('pre-shrink on a 16 MP photo', () => {
  it('seeding.jpg (5312×2988) to 256 cover: same picture with and without the box pre-shrink', async () => {
    const src = sample('seeding.jpg');
    const v = variant(256, 256, 'cover', 'png');
    const fast = await (await renderer()).render(src, v);
    const slow = await (await renderer({ preShrink: false })).render(src, v);
    expect([fast.width, fast.height]).toEqual([256, 256]);
    const mae = meanAbsError(await decodeOutput(fast.body), await decodeOutput(slow.body));
    for (const m of mae.slice(0, 3)) expect(m).toBeLessThan(2);
  }, 30_000);
});
