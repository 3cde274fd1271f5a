/**
 * JPEG decoding at 1/2, 1/4 or 1/8 scale: the IDCT runs at 4×4, 2×2 or 1×1 instead of 8×8,
 * so a 16 MP photo becomes a 1–4 MP image without ever existing at full size (libjpeg's
 * scale_denom; what libvips calls shrink-on-load). mozjpeg in @jsquash has no such option,
 * and a render of a phone photo spent most of its time decoding pixels the resize then
 * threw away. The decoder is image-rs's jpeg-decoder in wasm/jpeg_scaled.wasm
 * (wasm/jpeg-scaled/, scripts/build-jpeg-scaled.sh); full-size decodes stay with mozjpeg.
 */
import { toImageData } from './image-data.js';
import { isProgressiveJpeg, withoutAcScans } from './jpeg-dc-scans.js';

export type ScaleDenominator = 1 | 2 | 4 | 8;

interface Exports {
  memory: WebAssembly.Memory;
  input_alloc(len: number): number;
  decode(len: number, denominator: number): number;
  output_ptr(): number;
  output_len(): number;
  output_width(): number;
  output_height(): number;
  error_ptr(): number;
  error_len(): number;
  release(): void;
}

/** Past this much WebAssembly memory an instance is dropped after its decode (memory never shrinks). */
const KEEP_MEMORY_BYTES = 48 * 1024 * 1024;

export interface ScaledJpegDecoder {
  /** RGBA, ⌈width/d⌉ × ⌈height/d⌉ of the stored (unrotated) image; throws on anything it cannot decode. */
  decode(bytes: Uint8Array, denominator: ScaleDenominator): ImageData;
}

export interface ScaledJpegOptions {
  /** Run after an instance that grew past KEEP_MEMORY_BYTES was dropped (codecs.ts `collectGarbage`). */
  afterDrop?: () => void;
  /** Skip a progressive file's AC scans at 1/8 (default true; false only to compare). */
  dropAcScans?: boolean;
}

export function createScaledJpegDecoder(module: WebAssembly.Module, opts: ScaledJpegOptions = {}): ScaledJpegDecoder {
  const { afterDrop, dropAcScans = true } = opts;
  let current: Exports | undefined;
  const instance = (): Exports => (current ??= new WebAssembly.Instance(module, {}).exports as unknown as Exports);

  return {
    decode(bytes, denominator) {
      // At 1/8 only the DC coefficients count: a progressive file's AC scans need not be read.
      const input = (dropAcScans && denominator === 8 && isProgressiveJpeg(bytes) && withoutAcScans(bytes)) || bytes;
      const ex = instance();
      try {
        // Pointers first, then `memory.buffer`: an allocation may grow (and so replace) the buffer.
        const at = ex.input_alloc(input.length);
        new Uint8Array(ex.memory.buffer, at, input.length).set(input);
        if (ex.decode(input.length, denominator) !== 0) {
          const [ptr, len] = [ex.error_ptr(), ex.error_len()];
          throw new Error(`jpeg-decoder: ${new TextDecoder().decode(new Uint8Array(ex.memory.buffer, ptr, len))}`);
        }
        const [width, height, ptr, len] = [ex.output_width(), ex.output_height(), ex.output_ptr(), ex.output_len()];
        if (len !== width * height * 4) throw new Error(`jpeg-decoder: ${len} bytes for ${width}×${height}`);
        const pixels = new Uint8ClampedArray(len);
        pixels.set(new Uint8Array(ex.memory.buffer, ptr, len));
        return toImageData(pixels, width, height);
      } catch (err) {
        current = undefined; // a trap may leave the instance half-way through anything
        throw err;
      } finally {
        if (current) {
          current.release();
          if (current.memory.buffer.byteLength > KEEP_MEMORY_BYTES) {
            current = undefined;
            afterDrop?.();
          }
        }
      }
    },
  };
}

/**
 * The largest denominator that still leaves the decoded `region` at least `margin` × the
 * `target` in both axes.
 */
export function scaleDenominator(region: { width: number; height: number }, target: { width: number; height: number }, margin: number): ScaleDenominator {
  const ratio = Math.min(region.width / target.width, region.height / target.height);
  for (const d of [8, 4, 2] as const) if (ratio >= d * margin) return d;
  return 1;
}
