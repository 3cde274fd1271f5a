import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isAnimatedImage } from '../../../src/core/image/animation-header.js';
import { animationMetadata, originalIsAnimated } from '../../../src/core/image/original-animation.js';

const sample = (name: string) => new Uint8Array(readFileSync(new URL(`../../../samples/demo/${name}`, import.meta.url)));
const dots = () =>
  Promise.all(
    ['#000', '#fff'].map((background) =>
      sharp({ create: { width: 64, height: 64, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  );
const animatedGif = async () =>
  new Uint8Array(
    await sharp(await dots(), { join: { animated: true } })
      .gif()
      .toBuffer(),
  );
const animatedWebp = async () =>
  new Uint8Array(
    await sharp(await dots(), { join: { animated: true } })
      .webp()
      .toBuffer(),
  );

describe('originalIsAnimated (recorded flag, else the header walked)', () => {
  it('answers from the flag an upload recorded, without reading the original', async () => {
    const read = async (): Promise<Uint8Array> => {
      throw new Error('read');
    };
    expect(await originalIsAnimated({ metadata: animationMetadata(true) }, read)).toBe(true);
    expect(await originalIsAnimated({ contentType: 'image/gif', metadata: animationMetadata(false) }, read)).toBe(false);
    expect(animationMetadata(true)).toEqual({ animated: '1' });
    // JPEG, PNG and AVIF originals are never animated: no read for them either.
    expect(await originalIsAnimated({ contentType: 'image/jpeg', metadata: { alpha: '0' } }, read)).toBe(false);
  });

  it('walks the header of GIF and WebP originals stored without a flag', async () => {
    const gif = await animatedGif();
    expect(await originalIsAnimated({ contentType: 'image/gif', metadata: { alpha: '0' } }, async () => gif)).toBe(true);
    expect(await originalIsAnimated({}, async () => animatedWebp())).toBe(true);
    const stillGif = new Uint8Array(await sharp(sample('hopper.jpg')).resize(32).gif().toBuffer());
    expect(await originalIsAnimated({ contentType: 'image/gif' }, async () => stillGif)).toBe(false);
    expect(await originalIsAnimated({}, async () => sample('mysha-webp.webp'))).toBe(false);
    expect(await originalIsAnimated({ contentType: 'application/octet-stream' }, async () => sample('hopper.jpg'))).toBe(false);
  });

  it('counts a GIF cut after its first frame (a 64 KiB prefix of a larger file) as animated', async () => {
    const gif = await animatedGif();
    const stillGif = new Uint8Array(await sharp(sample('hopper.jpg')).resize(32).gif().toBuffer());
    // The first frame's data, cut before its end (or before the trailer): the walk cannot tell.
    expect(isAnimatedImage(stillGif.subarray(0, stillGif.length - 1))).toBe(true);
    expect(isAnimatedImage(gif)).toBe(true);
    expect(isAnimatedImage(stillGif)).toBe(false);
  });

  it('is undefined when the original is gone by the time it is read', async () => {
    expect(await originalIsAnimated({}, async () => undefined)).toBeUndefined();
  });
});
