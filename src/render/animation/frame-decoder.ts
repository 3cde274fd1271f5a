/**
 * Every frame of an animated GIF or WebP, composited on its canvas, one at a time (the
 * `anim_*` exports of wasm/jpeg_scaled.wasm: wasm/jpeg-scaled/src/animation.rs). Each
 * animation gets an instance of its own, dropped at the end: it holds the source, the canvas
 * and the decoder's state between frames, and nothing else calls into it meanwhile, so a
 * frame is handed out where it lies in WebAssembly memory, without a copy.
 */
import { installImageDataPolyfill } from '../image-data.js';
import { KEEP_MEMORY_BYTES } from '../wasm-decoder.js';

interface AnimationExports {
  memory: WebAssembly.Memory;
  input_alloc(len: number): number;
  anim_open(len: number): number;
  anim_next(): number;
  anim_canvas_ptr(): number;
  anim_delay_ms(): number;
  anim_loop_count(): number;
  output_width(): number;
  output_height(): number;
  error_ptr(): number;
  error_len(): number;
}

export interface AnimationFrame {
  /**
   * The composited canvas. Its pixels are valid until the next `next()` or `close()`; a
   * consumer that keeps them must copy.
   */
  image: ImageData;
  delayMs: number;
}

export interface FrameDecoder {
  readonly width: number;
  readonly height: number;
  /** The next frame, or undefined after the last (or after `maxFrames`). */
  next(): AnimationFrame | undefined;
  /** WebP's loop count (0 forever), read once the frames are. */
  loopCount(): number;
  /** Drops the instance (and with it all its memory). */
  close(): void;
}

/**
 * Opens `bytes` (an animated GIF or WebP) for at most `maxFrames` frames; throws
 * `animation: …` on a decoder error. `afterDrop` runs after closing an instance whose memory
 * grew large (codecs.ts `collectGarbage`).
 */
export function openFrames(module: WebAssembly.Module, bytes: Uint8Array, maxFrames: number, afterDrop?: () => void): FrameDecoder {
  let ex: AnimationExports | undefined = new WebAssembly.Instance(module, {}).exports as unknown as AnimationExports;
  const fail = (e: AnimationExports): never => {
    const message = new TextDecoder().decode(new Uint8Array(e.memory.buffer, e.error_ptr(), e.error_len()));
    ex = undefined;
    throw new Error(`animation: ${message}`);
  };
  const at = ex.input_alloc(bytes.length);
  new Uint8Array(ex.memory.buffer, at, bytes.length).set(bytes);
  if (ex.anim_open(bytes.length) !== 0) fail(ex);
  const width = ex.output_width();
  const height = ex.output_height();
  let read = 0;
  return {
    width,
    height,
    next() {
      if (!ex || read >= maxFrames) return undefined;
      const status = ex.anim_next();
      if (status === 2) return undefined;
      if (status !== 0) return fail(ex);
      read++;
      const data = new Uint8ClampedArray(ex.memory.buffer, ex.anim_canvas_ptr(), width * height * 4);
      return { image: wrap(data, width, height), delayMs: ex.anim_delay_ms() };
    },
    loopCount: () => ex?.anim_loop_count() ?? 0,
    close() {
      const large = ex !== undefined && ex.memory.buffer.byteLength > KEEP_MEMORY_BYTES;
      ex = undefined;
      if (large) afterDrop?.();
    },
  };
}

/** ImageData over pixels in place (toImageData would copy a view). */
function wrap(data: Uint8ClampedArray, width: number, height: number): ImageData {
  installImageDataPolyfill();
  return new ImageData(data as Uint8ClampedArray<ArrayBuffer>, width, height);
}
