/**
 * AVIF through @jsquash/avif's single-threaded builds (libavif with libaom to encode, dav1d to
 * decode), driven directly rather than through its encode.js, which picks the multi-threaded
 * build with workers whenever it is not on Node (so on Deno): the render pool already keeps
 * every core busy with one render each.
 */
import avifDecFactory, { type AVIFModule as AvifDecoder } from '@jsquash/avif/codec/dec/avif_dec.js';
import avifEncFactory, { type AVIFModule as AvifEncoder, type EncodeOptions } from '@jsquash/avif/codec/enc/avif_enc.js';
import { initEmscriptenModule } from '@jsquash/avif/utils.js';

/**
 * libaom's speed (0 slowest … 10 fastest). Measured on a 512 px avatar: speed 6 (jsquash's
 * default) 327 ms, 8 138 ms, 10 49 ms, against 58 ms for WebP q80. At equal SSIM to WebP q75
 * over the corpus at 64–512 px, speed 8 takes 0.74× WebP's bytes and speed 10 0.9×: 8 is
 * where AVIF is worth serving (README, "Formats"; npm run bench -- --only=avif).
 */
export const AVIF_SPEED = 8;

/**
 * The service's q (the WebP/JPEG scale, 1–100) as libavif's quality: at speed 8, AVIF quality
 * 58 gives WebP q75's SSIM on the corpus (0.977), so one URL's q means about the same picture
 * in every format. Calibrated at q75, the default; a plain offset elsewhere.
 */
export function avifQuality(q: number): number {
  return Math.max(1, Math.min(100, q - 17));
}

/** Decodes at least this large replace their decoder afterwards (as codecs.ts LARGE_DECODE_PIXELS). */
const LARGE_PIXELS = 4_000_000;

export interface AvifCodec {
  encode(image: ImageData, quality: number): Promise<Uint8Array>;
  decode(bytes: Uint8Array): Promise<ImageData>;
}

const OPTIONS: Omit<EncodeOptions, 'quality'> = {
  qualityAlpha: -1,
  denoiseLevel: 0,
  tileColsLog2: 0,
  tileRowsLog2: 0,
  speed: AVIF_SPEED,
  // 4:2:0, as WebP and the JPEG encoder here.
  subsample: 1,
  chromaDeltaQ: false,
  sharpness: 0,
  tune: 0,
  enableSharpYUV: false,
  bitDepth: 8,
};

export function createAvifCodec(modules: { avifEnc: WebAssembly.Module; avifDec: WebAssembly.Module }, emscriptenOptions: object): AvifCodec {
  let encoder: Promise<AvifEncoder> | undefined;
  let decoder: Promise<AvifDecoder> | undefined;
  const newDecoder = () => (decoder = initEmscriptenModule(avifDecFactory, modules.avifDec, emscriptenOptions));
  return {
    async encode(image, quality) {
      encoder ??= initEmscriptenModule(avifEncFactory, modules.avifEnc, emscriptenOptions);
      const out = (await encoder).encode(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength), image.width, image.height, {
        ...OPTIONS,
        quality: avifQuality(quality),
      });
      if (!out) throw new Error('avif: encoding failed');
      return new Uint8Array(out);
    },
    async decode(bytes) {
      const module = await (decoder ?? newDecoder());
      let image: ImageData | null;
      try {
        image = module.decode(bytes as Uint8Array<ArrayBuffer>, 8);
      } catch (err) {
        // An Emscripten abort leaves the instance unusable: the next decode gets a fresh one.
        newDecoder();
        throw err;
      }
      if (!image) {
        newDecoder();
        throw new Error('avif: decoding failed');
      }
      // WebAssembly memory only grows: after a large decode a fresh instance lets it go (codecs.ts).
      if (image.width * image.height >= LARGE_PIXELS) newDecoder();
      return image;
    },
  };
}
