import sharp from 'sharp';

/**
 * An animated GIF of `frames` solid `side` × `side` frames, black and white in turn (frames
 * must differ: sharp's GIF writer merges identical neighbours).
 */
export async function blinkingGif(frames: number, side: number): Promise<Uint8Array> {
  const dots = await Promise.all(
    ['#000000', '#ffffff'].map((background) =>
      sharp({ create: { width: side, height: side, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  );
  const gif = await sharp(
    Array.from({ length: frames }, (_, k) => dots[k % 2]!),
    { join: { animated: true } },
  )
    .gif()
    .toBuffer();
  return new Uint8Array(gif);
}
