/**
 * The new formats over real HTTP (the Node host on loopback): AVIF negotiated from Accept with
 * Vary, cached apart from WebP; AVIF, GIF, CMYK and Display P3 originals rendered; an animated
 * GIF served as an animated WebP (for fmt=auto too, where a still gets AVIF; its first frame in
 * other formats), or refused past the limits.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originalKey } from '../../src/core/storage-keys.js';
import { ANIMATION_LIMITS } from '../../src/render/animation/animation-plan.js';
import { startTestHost } from '../support/node-host.js';
import { blinkingGif } from '../support/blinking-gif.js';

const SAMPLES = new URL('../../samples/demo/', import.meta.url).pathname;
const CHROME = 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8';

describe('formats over HTTP', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  const originals = new Map<string, Uint8Array>();
  beforeAll(async () => {
    host = await startTestHost({ tenants: { demo: {}, modern: { formats: ['webp', 'jpeg', 'png', 'avif'] } } });
    const photo = sharp(`${SAMPLES}hopper.jpg`).resize(300);
    originals.set('hopper', await photo.clone().jpeg().toBuffer());
    originals.set('from-avif', await photo.clone().avif().toBuffer());
    originals.set('from-gif', await photo.clone().gif().toBuffer());
    originals.set('cmyk', await photo.clone().withIccProfile('cmyk').jpeg().toBuffer());
    originals.set('p3', await photo.clone().withIccProfile('p3').jpeg().toBuffer());
    // Four corpus photos, 100–400 ms each, looping twice; and one frame more than the limit allows.
    const frames = await Promise.all(['hopper.jpg', 'free.jpg', 'seeding.jpg', 'mysha.png'].map((n) => sharp(`${SAMPLES}${n}`).resize(320, 240).png().toBuffer()));
    originals.set(
      'animated',
      await sharp(frames, { join: { animated: true } })
        .gif({ delay: [100, 200, 300, 400], loop: 2 })
        .toBuffer(),
    );
    originals.set('too-many-frames', await blinkingGif(ANIMATION_LIMITS.maxFrames + 1, 8));
    for (const [id, bytes] of originals) await host.store.put(originalKey('modern', id), new Uint8Array(bytes));
  }, 60_000);
  afterAll(() => host?.stop());

  it('fmt=auto answers AVIF to a browser that lists it, WebP to one that does not, both with Vary: Accept', async () => {
    const avif = await host.get('/modern/hopper?w=256&h=256', { accept: CHROME });
    expect(avif.status).toBe(200);
    expect(avif.headers.get('content-type')).toBe('image/avif');
    expect(avif.headers.get('vary')).toMatch(/accept/i);
    const body = new Uint8Array(await avif.arrayBuffer());
    expect((await sharp(body).metadata()).compression).toBe('av1');
    const webp = await host.get('/modern/hopper?w=256&h=256', { accept: 'image/webp,*/*' });
    expect(webp.headers.get('content-type')).toBe('image/webp');
    expect(webp.headers.get('vary')).toMatch(/accept/i);
    expect(webp.headers.get('etag')).not.toBe(avif.headers.get('etag'));
    // A small avatar stays WebP; an explicit fmt=avif does not vary.
    expect((await host.get('/modern/hopper?w=64&h=64', { accept: CHROME })).headers.get('content-type')).toBe('image/webp');
    const explicit = await host.get('/modern/hopper/128.avif', { accept: 'image/webp' });
    expect(explicit.headers.get('content-type')).toBe('image/avif');
    expect(explicit.headers.get('vary') ?? '').not.toMatch(/accept/i);
  });

  it('the default tenant refuses fmt=avif with 400 and negotiates WebP for Chrome', async () => {
    const res = await host.get('/demo/hopper?fmt=avif');
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('INVALID_PARAMETER');
    expect((await host.get('/demo/hopper?w=256', { accept: CHROME })).headers.get('content-type')).toBe('image/webp');
  });

  it('renders AVIF, GIF, CMYK and Display P3 originals', async () => {
    for (const id of ['from-avif', 'from-gif', 'cmyk', 'p3']) {
      // sharp's rendering of the same original, colour-managed to sRGB.
      const reference = await sharp(originals.get(id)).resize(128, 128).toColourspace('srgb').removeAlpha().raw().toBuffer();
      const res = await host.get(`/modern/${id}?w=128&h=128&fmt=png`);
      expect(res.status, id).toBe(200);
      const { data, info } = await sharp(new Uint8Array(await res.arrayBuffer()))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([128, 128]);
      let sum = 0;
      for (let i = 0; i < data.length; i++) sum += Math.abs(data[i]! - reference[i]!);
      expect(sum / data.length, id).toBeLessThan(4);
    }
  });

  it('an animated GIF is an animated WebP for fmt=webp and a negotiated WebP, its first frame as PNG', async () => {
    for (const [path, accept] of [
      ['/modern/animated?w=128&h=128&fmt=webp', CHROME],
      ['/modern/animated?w=128&h=128', 'image/webp,*/*'],
    ] as const) {
      const res = await host.get(path, { accept });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/webp');
      const body = new Uint8Array(await res.arrayBuffer());
      const meta = await sharp(body, { animated: true }).metadata();
      expect([meta.pages, meta.width, meta.pageHeight, meta.loop], path).toEqual([4, 128, 128, 2]);
      expect(meta.delay).toEqual([100, 200, 300, 400]);
      // Every frame decodes (libwebp's demuxer, through sharp).
      const raw = await sharp(body, { animated: true }).raw().toBuffer({ resolveWithObject: true });
      expect([raw.info.width, raw.info.height]).toEqual([128, 4 * 128]);
    }
    const png = await host.get('/modern/animated?w=128&h=128&fmt=png');
    expect(png.status).toBe(200);
    const meta = await sharp(new Uint8Array(await png.arrayBuffer()), { animated: true }).metadata();
    expect([meta.format, meta.pages ?? 1, meta.width, meta.height]).toEqual(['png', 1, 128, 128]);
  });

  it('fmt=auto gives an animated original an animated WebP where a still one gets AVIF, both with Vary: Accept', async () => {
    const accept = 'image/avif,image/webp';
    const res = await host.get('/modern/animated?w=256&h=256', { accept });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('vary')).toMatch(/accept/i);
    const meta = await sharp(new Uint8Array(await res.arrayBuffer()), { animated: true }).metadata();
    expect([meta.format, meta.pages, meta.width, meta.pageHeight]).toEqual(['webp', 4, 256, 256]);
    expect(meta.delay).toEqual([100, 200, 300, 400]);
    const still = await host.get('/modern/hopper?w=256&h=256', { accept });
    expect(still.headers.get('content-type')).toBe('image/avif');
    expect(still.headers.get('vary')).toMatch(/accept/i);
    // Without WebP in Accept the tenant's order stands: AVIF, the first frame.
    const avifOnly = await host.get('/modern/animated?w=256&h=256', { accept: 'image/avif' });
    expect(avifOnly.headers.get('content-type')).toBe('image/avif');
  });

  it('an animation past the limits is 422 ANIMATION_TOO_LARGE; its first frame still renders as JPEG', async () => {
    const res = await host.get('/modern/too-many-frames?w=64&h=64&fmt=webp');
    expect(res.status).toBe(422);
    const err = await res.json();
    expect(err.code).toBe('ANIMATION_TOO_LARGE');
    expect(err.message).toContain(`${ANIMATION_LIMITS.maxFrames + 1} frames`);
    expect((await host.get('/modern/too-many-frames?w=64&h=64&fmt=jpeg')).status).toBe(200);
  });
});
