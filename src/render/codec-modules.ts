/**
 * The compiled codec binaries a host hands to the renderer. Each host reads wasm/ its own way
 * (Node: fs; Deno: Deno.readFile) through load-pinned-codecs.ts, so this module never touches
 * files or URLs. Keys match the entries of wasm/manifest.json.
 */
export interface CodecModules {
  jpegDec: WebAssembly.Module;
  jpegEnc: WebAssembly.Module;
  webpDec: WebAssembly.Module;
  /**
   * webp_enc_simd.wasm when `supportsWasmSimd()` is true, else webp_enc.wasm. @jsquash/webp
   * picks its JavaScript glue by the same test, and glue and binary must be the same build.
   */
  webpEnc: WebAssembly.Module;
  /** squoosh_png_bg.wasm: PNG encode (its decoder is not used: codecs.ts). */
  pngWasm: WebAssembly.Module;
  /** jpeg_scaled.wasm, built from wasm/jpeg-scaled/: JPEG decode at 1/2, 1/4, 1/8 scale (jpeg-scaled.ts) and every PNG decode (codecs.ts). */
  jpegScaled: WebAssembly.Module;
  /** avif_enc.wasm (libavif + libaom, single-threaded build): AVIF output (avif-codec.ts). */
  avifEnc: WebAssembly.Module;
  /** avif_dec.wasm (libavif + dav1d): AVIF sources. */
  avifDec: WebAssembly.Module;
  /** face_net.wasm, built from wasm/face-net/: the face detector's network (focal/face-net.ts), instantiated on a thread's first face/auto crop. */
  faceNet: WebAssembly.Module;
}

export const CODEC_KEYS = ['jpegDec', 'jpegEnc', 'webpDec', 'webpEnc', 'pngWasm', 'jpegScaled', 'avifEnc', 'avifDec', 'faceNet'] as const satisfies readonly (keyof CodecModules)[];

/** The manifest key of the WebP encoder build this engine needs. */
export function webpEncoderKey(): 'webpEncSimd' | 'webpEnc' {
  return supportsWasmSimd() ? 'webpEncSimd' : 'webpEnc';
}

// The probe wasm-feature-detect's `simd()` validates (which @jsquash/webp's init awaits): a
// function using i8x16.splat + i8x16.popcnt. Same bytes, so both always agree.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

export function supportsWasmSimd(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}
