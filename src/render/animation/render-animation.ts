/**
 * An animated GIF or WebP rendered as an animated WebP: each frame, composited on the full
 * canvas (frame-decoder.ts), gets the same fit as a still (cover crop around the same focal
 * point, inside, contain's letterbox, orientation), is encoded by the still WebP encoder, and
 * the encodes are put into one container with their delays and the loop count (webp-mux.ts).
 * One frame is in flight at a time; the deadline is checked after each.
 */
import { wantsFocal } from '../../core/focal-point.js';
import type { ImageInfo } from '../../core/image/sniff.js';
import type { RenderResult } from '../../core/ports.js';
import type { Variant } from '../../core/variant.js';
import type { Codecs } from '../codecs.js';
import { embeddedIcc } from '../colour/embedded-icc.js';
import { decodeFailed } from '../decode-source.js';
import { type FitOptions, fitImage } from '../fit-image.js';
import type { FocalFinder } from '../focal/find-focal.js';
import type { AnimationPlan } from './animation-plan.js';
import { type AnimationFrame, openFrames } from './frame-decoder.js';
import { type MuxFrame, muxAnimatedWebp } from './webp-mux.js';

export interface AnimationContext {
  codecs: Codecs;
  /** wasm/jpeg_scaled.wasm, whose `anim_*` exports decode the frames. */
  module: WebAssembly.Module;
  fit: FitOptions;
  findFocal?: FocalFinder;
  checkpoint?: () => void;
  collectGarbage?: () => void;
}

export async function renderAnimation(ctx: AnimationContext, source: Uint8Array, info: ImageInfo, variant: Variant, plan: AnimationPlan): Promise<RenderResult> {
  const { codecs, checkpoint } = ctx;
  const timings = { decode: 0, resize: 0, encode: 0 };
  let t = performance.now();
  const lap = (stage: keyof typeof timings): void => {
    const now = performance.now();
    timings[stage] += now - t;
    t = now;
  };
  let frames;
  try {
    frames = openFrames(ctx.module, source, plan.frames, ctx.collectGarbage);
  } catch (err) {
    throw decodeFailed(err);
  }
  try {
    const icc = embeddedIcc(info.format, source);
    // Every frame shows through the same canvas: alpha is judged frame by frame (fit-image.ts).
    const shape = { hasAlpha: true, orientation: info.orientation };
    const encoded: MuxFrame[] = [];
    let detect: number | undefined;
    for (;;) {
      let frame: AnimationFrame | undefined;
      try {
        frame = frames.next();
      } catch (err) {
        // A damaged frame ends the animation where browsers stop showing it; none at all fails.
        if (encoded.length === 0) throw decodeFailed(err);
      }
      lap('decode');
      if (!frame) break;
      if (encoded.length === 0 && wantsFocal(variant) && !variant.focal && ctx.findFocal) {
        // Found on the first frame, used for all: every frame is cropped alike.
        variant = { ...variant, focal: await ctx.findFocal(frame.image, info.orientation) };
        detect = performance.now() - t;
        t = performance.now();
        checkpoint?.();
      }
      const fitted = await fitImage(codecs, frame.image, shape, variant, ctx.fit);
      const pixels = icc ? codecs.toSrgb(fitted.image, icc) : fitted.image;
      lap('resize');
      const still = await codecs.encode('webp', pixels, variant.quality);
      lap('encode');
      encoded.push({ still, width: pixels.width, height: pixels.height, durationMs: frame.delayMs });
      checkpoint?.();
    }
    if (encoded.length === 0) throw decodeFailed(new Error('no frames decoded'));
    const { width, height } = encoded[0]!;
    const body = muxAnimatedWebp(encoded, { width, height, loopCount: frames.loopCount() });
    lap('encode');
    return {
      body,
      width,
      height,
      timings: { ...timings, ...(detect !== undefined ? { detect } : {}) },
      ...(variant.focal && detect !== undefined ? { focal: variant.focal } : {}),
    };
  } finally {
    frames.close();
  }
}
