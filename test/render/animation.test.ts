/**
 * Animated GIF and WebP sources: WebP output is an animated WebP (every frame, its delay, the
 * loop count), other formats are the first frame, and an animation past the limits is
 * refused before any decode. Sources are made by sharp from the corpus photos; the output is
 * read back by sharp (libvips + libwebp's demuxer), a decoder other than ours.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { frameCount } from '../../src/core/image/animation-header.js';
import { ANIMATION_LIMITS } from '../../src/render/animation/animation-plan.js';
import { renderer, SAMPLES, variant } from './helpers.js';
import { blinkingGif } from '../support/blinking-gif.js';

const PHOTOS = ['hopper.jpg', 'free.jpg', 'seeding.jpg', 'mysha.png'];
const DELAYS = [100, 200, 300, 400];

/** Each page of an animated image, as sharp decodes it (composited), RGBA. */
async function pages(bytes: Uint8Array | Buffer): Promise<{ width: number; height: number; frames: Buffer[] }> {
  const { data, info } = await sharp(bytes, { animated: true }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const height = info.pageHeight ?? info.height;
  const size = info.width * height * 4;
  const frames = Array.from({ length: info.height / height }, (_, k) => data.subarray(k * size, (k + 1) * size));
  return { width: info.width, height, frames };
}

const meanDiff = (a: Buffer, b: Buffer): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
};

describe('animated sources', () => {
  let gif: Buffer;
  let webp: Buffer;
  let stills: Buffer[];
  beforeAll(async () => {
    stills = await Promise.all(PHOTOS.map((n) => sharp(`${SAMPLES}${n}`).resize(400, 300).png().toBuffer()));
    gif = await sharp(stills, { join: { animated: true } })
      .gif({ delay: DELAYS, loop: 3 })
      .toBuffer();
    webp = await sharp(stills, { join: { animated: true } })
      .webp({ delay: DELAYS, loop: 0 })
      .toBuffer();
  }, 60_000);

  it('counts frames from the header alone', () => {
    expect(frameCount(new Uint8Array(gif), { format: 'gif' })).toBe(4);
    expect(frameCount(new Uint8Array(webp), { format: 'webp' })).toBe(4);
  });

  it('an animated GIF as WebP is an animated WebP: every frame cover-cropped, delays and loop count kept', async () => {
    const r = await renderer();
    const out = await r.render(new Uint8Array(gif), variant(128, 128));
    const meta = await sharp(out.body, { animated: true }).metadata();
    expect(meta.format).toBe('webp');
    expect([meta.pages, meta.width, meta.pageHeight]).toEqual([4, 128, 128]);
    expect(meta.delay).toEqual(DELAYS);
    expect(meta.loop).toBe(3); // plays 3 times, as the GIF (libvips counts plays for both)
    // Each frame looks like sharp's own cover crop of that frame of the GIF, and not like the others.
    const source = await pages(gif);
    const rendered = await pages(out.body);
    const references = await Promise.all(
      source.frames.map((f) =>
        sharp(f, { raw: { width: source.width, height: source.height, channels: 4 } })
          .resize(128, 128)
          .raw()
          .toBuffer(),
      ),
    );
    for (let k = 0; k < 4; k++) {
      const diffs = references.map((ref) => meanDiff(rendered.frames[k]!, ref));
      expect(diffs[k], `frame ${k}`).toBeLessThan(8); // a dithered GIF through lossy WebP
      for (let j = 0; j < 4; j++) if (j !== k) expect(diffs[j], `frame ${k} against ${j}`).toBeGreaterThan(3 * diffs[k]!);
    }
  });

  it('an animated WebP as WebP, contain: letterboxed frames with alpha, looping forever', async () => {
    const r = await renderer();
    const out = await r.render(new Uint8Array(webp), variant(200, 200, 'contain'));
    const meta = await sharp(out.body, { animated: true }).metadata();
    expect([meta.pages, meta.width, meta.pageHeight, meta.loop, meta.hasAlpha]).toEqual([4, 200, 200, 0, true]);
    expect(meta.delay).toEqual(DELAYS);
    const rendered = await pages(out.body);
    for (const frame of rendered.frames) {
      expect(frame[3], 'letterbox above the picture').toBe(0); // top-left pixel
      expect(frame[(100 * 200 + 100) * 4 + 3], 'the picture').toBe(255);
    }
  });

  it('JPEG and PNG output are the first frame', async () => {
    const r = await renderer();
    const first = await sharp(stills[0]!).resize(96, 96).removeAlpha().raw().toBuffer();
    for (const format of ['jpeg', 'png'] as const) {
      for (const src of [gif, webp]) {
        const out = await r.render(new Uint8Array(src), variant(96, 96, 'cover', format));
        const meta = await sharp(out.body, { animated: true }).metadata();
        expect([meta.format, meta.pages ?? 1]).toEqual([format, 1]);
        const pixels = await sharp(out.body).removeAlpha().raw().toBuffer();
        expect(meanDiff(pixels, first), format).toBeLessThan(8);
      }
    }
  });

  it('an animation past the limits is refused with 422 ANIMATION_TOO_LARGE, naming the limits', async () => {
    const r = await renderer();
    const many = await blinkingGif(ANIMATION_LIMITS.maxFrames + 1, 8);
    expect(frameCount(new Uint8Array(many), { format: 'gif' })).toBe(ANIMATION_LIMITS.maxFrames + 1);
    await expect(r.render(new Uint8Array(many), variant(64, 64))).rejects.toMatchObject({
      status: 422,
      code: 'ANIMATION_TOO_LARGE',
      message: expect.stringContaining(`at most ${ANIMATION_LIMITS.maxFrames} frames`),
    });
    // Its first frame is still a fine JPEG.
    expect((await r.render(new Uint8Array(many), variant(64, 64, 'cover', 'jpeg'))).width).toBe(64);
    // 4 frames of 400×300 at 1024×1024 contain: 4.2 million output pixels.
    await expect(r.render(new Uint8Array(gif), variant(1024, 1024, 'contain'))).rejects.toMatchObject({ status: 422, code: 'ANIMATION_TOO_LARGE' });
  });
});

/**
 * A GIF written byte by byte (4 colours, LZW with a clear code after every two pixels so the
 * code size stays 3 bits), to pin down disposal and transparency, which sharp's writer does
 * not choose to use.
 */
function handMadeGif(width: number, height: number, frames: { x: number; y: number; w: number; h: number; pixels: number[]; dispose: number; transparent?: number }[]): Uint8Array {
  const out: number[] = [...'GIF89a'].map((c) => c.charCodeAt(0));
  const u16 = (v: number) => out.push(v & 0xff, v >> 8);
  u16(width);
  u16(height);
  out.push(0xf1, 0, 0); // global colour table of 4, background 0
  out.push(255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0); // red, green, blue, black
  out.push(0x21, 0xff, 11, ...[...'NETSCAPE2.0'].map((c) => c.charCodeAt(0)), 3, 1, 0, 0, 0); // loop forever
  for (const f of frames) {
    out.push(0x21, 0xf9, 4, (f.dispose << 2) | (f.transparent !== undefined ? 1 : 0), 10, 0, f.transparent ?? 0, 0); // 100 ms
    out.push(0x2c);
    for (const v of [f.x, f.y, f.w, f.h]) u16(v);
    out.push(0, 2); // no local table; LZW minimum code size 2
    const codes: number[] = [];
    f.pixels.forEach((p, i) => {
      if (i % 2 === 0) codes.push(4); // clear
      codes.push(p);
    });
    codes.push(5); // end
    const data: number[] = [];
    let acc = 0;
    let bits = 0;
    for (const c of codes) {
      acc |= c << bits;
      bits += 3;
      while (bits >= 8) {
        data.push(acc & 0xff);
        acc >>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) data.push(acc & 0xff);
    for (let i = 0; i < data.length; i += 255) out.push(Math.min(255, data.length - i), ...data.slice(i, i + 255));
    out.push(0);
  }
  out.push(0x3b);
  return new Uint8Array(out);
}

describe('GIF compositing', () => {
  it('applies each frame’s disposal before the next and keeps the canvas under transparent pixels, as browsers do', async () => {
    const [R, G, B, T] = [0, 1, 2, 3];
    // A 4×4 grid of 8 px blocks (lossy WebP bleeds colour across single pixels).
    const S = 8;
    const blocks = (x: number, y: number, row: number[][], dispose: number, transparent?: number) => {
      const w = row[0]!.length * S;
      const h = row.length * S;
      const pixels = Array.from({ length: w * h }, (_, i) => row[Math.floor(Math.floor(i / w) / S)]![Math.floor((i % w) / S)]!);
      return { x: x * S, y: y * S, w, h, pixels, dispose, ...(transparent !== undefined ? { transparent } : {}) };
    };
    const gif = handMadeGif(4 * S, 4 * S, [
      blocks(0, 0, Array(4).fill([R, R, R, R]), 1), // keep
      blocks(
        0,
        0,
        [
          [G, G],
          [G, G],
        ],
        2,
      ), // then cleared to transparent
      blocks(
        2,
        2,
        [
          [B, B],
          [B, B],
        ],
        3,
      ), // then restored to what was under it
      blocks(2, 0, [[T, G]], 1, T),
    ]);
    const r = await renderer();
    const out = await r.render(gif, variant(4 * S, 4 * S, 'cover', 'webp', 100));
    const meta = await sharp(out.body, { animated: true }).metadata();
    expect([meta.pages, meta.loop, meta.delay]).toEqual([4, 0, [100, 100, 100, 100]]);
    const { frames } = await pages(out.body);
    const [red, green, blue, clear] = [
      [255, 0, 0, 255],
      [0, 255, 0, 255],
      [0, 0, 255, 255],
      [0, 0, 0, 0],
    ];
    const expected = [
      Array(16).fill(red),
      [green, green, red, red, green, green, red, red, ...Array(8).fill(red)],
      [clear, clear, red, red, clear, clear, red, red, red, red, blue, blue, red, red, blue, blue],
      [clear, clear, red, green, clear, clear, red, red, ...Array(8).fill(red)],
    ];
    frames.forEach((frame, k) => {
      expected[k]!.forEach((want: number[], i: number) => {
        const at = ((Math.floor(i / 4) * S + S / 2) * 4 * S + (i % 4) * S + S / 2) * 4; // the block's centre
        const got = [...frame.subarray(at, at + 4)];
        expect(got[3], `frame ${k} pixel ${i} alpha`).toBe(want[3]);
        if (want[3] === 255) for (let c = 0; c < 3; c++) expect(Math.abs(got[c]! - want[c]!), `frame ${k} pixel ${i}`).toBeLessThan(16);
      });
    });
  });
});
