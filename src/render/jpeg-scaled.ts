/**
 * JPEG decoding at 1/2, 1/4 or 1/8 scale: the IDCT runs at 4×4, 2×2 or 1×1 instead of 8×8,
 * so a 16 MP photo becomes a 1–4 MP image without ever existing at full size (libjpeg's
 * scale_denom; what libvips calls shrink-on-load). mozjpeg in @jsquash has no such option,
 * and a render of a phone photo spent most of its time decoding pixels the resize then
 * threw away. The decoder is image-rs's jpeg-decoder in wasm/jpeg_scaled.wasm
 * (wasm/jpeg-scaled/, scripts/build-jpeg-scaled.sh); full-size decodes stay with mozjpeg.
 */
import { toImageData } from './image-data.js';
import { createWasmDecoder, type SharedInstance } from './wasm-decoder.js';

export type ScaleDenominator = 1 | 2 | 4 | 8;

export interface ScaledJpegDecoder {
  /** RGBA, ⌈width/d⌉ × ⌈height/d⌉ of the stored (unrotated) image; throws on anything it cannot decode. */
  decode(bytes: Uint8Array, denominator: ScaleDenominator): ImageData;
}

export interface ScaledJpegOptions {
  /** Run after an instance was dropped (wasm-decoder.ts; codecs.ts `collectGarbage`). */
  afterDrop?: () => void;
  /**
   * Skip a progressive file's AC scans at 1/8 (default true; false only to compare): dropped in
   * WebAssembly memory before decoding (jpeg_structure.rs `without_ac_scans`, the bytes
   * jpeg-dc-scans.ts `withoutAcScans` makes; in JavaScript, its walk and copy took ~0.6 ms a MB).
   */
  dropAcScans?: boolean;
  /** The module's instance shared with the other decoders of one thread (wasm-decoder.ts); one of its own by default. */
  shared?: SharedInstance;
  /** Past this much memory the instance is dropped after a decode (wasm-decoder.ts `createWasmDecoder`'s default otherwise). */
  keepBytes?: number;
}

export function createScaledJpegDecoder(module: WebAssembly.Module, opts: ScaledJpegOptions = {}): ScaledJpegDecoder {
  const { afterDrop, dropAcScans = true, shared, keepBytes } = opts;
  const wasm = createWasmDecoder(module, 'jpeg-decoder', afterDrop, keepBytes, shared);
  return {
    decode(bytes, denominator) {
      return wasm.run(
        bytes,
        (ex, len) => ex.decode(len, denominator, dropAcScans ? 1 : 0),
        (rgba, width, height) => toImageData(new Uint8ClampedArray(rgba), width, height),
      );
    },
  };
}

/**
 * The largest denominator that still leaves the decoded `region` at least `margin` × the
 * `target` in both axes (still WebPs and PNGs: jsquash-renderer.ts DCT_MARGIN).
 */
export function scaleDenominator(region: { width: number; height: number }, target: { width: number; height: number }, margin: number): ScaleDenominator {
  const ratio = Math.min(region.width / target.width, region.height / target.height);
  for (const d of [8, 4, 2] as const) if (ratio >= d * margin) return d;
  return 1;
}

/**
 * A JPEG's scale for `target`: the largest d that leaves at least d + 1 source pixels per
 * target pixel along the tighter axis (1/8 from 9×, 1/4 from 5×, 1/2 from 3×), then the resize
 * does the rest. libvips' shrink-on-load as sharp applies it by default (`fastShrinkOnLoad`:
 * one step finer when the shrink's integer part equals d), so the reference renders of the
 * bench decode at the same scales. Against a margin of 2× the target (before): the 100
 * first-touch renders took 0.89× sharp's time instead of 1.26× (a progressive 16 MP photo at
 * 1/8 reads no AC scans: 284 → 49 ms); the render suite's median SSIM 0.9781 → 0.9777
 * (seeding.jpg 0.9748 → 0.9732, the others the same; sharp 0.9834).
 */
export function jpegScaleDenominator(region: { width: number; height: number }, target: { width: number; height: number }): ScaleDenominator {
  const ratio = Math.min(region.width / target.width, region.height / target.height);
  for (const d of [8, 4, 2] as const) if (ratio >= d + 1) return d;
  return 1;
}
