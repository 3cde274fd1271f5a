/**
 * The jsquash codecs behind one small interface, initialised once per process with the
 * modules the host compiled. jsquash keeps codec state in module scope, so "once" is global:
 * later calls reuse the first initialisation.
 */
import jpegDecode, { init as initJpegDecode } from '@jsquash/jpeg/decode.js';
import jpegEncode, { init as initJpegEncode } from '@jsquash/jpeg/encode.js';
import pngDecode, { init as initPng } from '@jsquash/png/decode.js';
import pngEncode from '@jsquash/png/encode.js';
import resize, { initResize } from '@jsquash/resize';
import webpDecode, { init as initWebpDecode } from '@jsquash/webp/decode.js';
import webpEncode, { init as initWebpEncode } from '@jsquash/webp/encode.js';
import type { SourceFormat } from '../core/image/sniff.js';
import type { Format } from '../core/variant.js';
import type { CodecModules } from './codec-modules.js';
import { installImageDataPolyfill, toImageData } from './image-data.js';
import { pngStructureProblem } from './png-check.js';

export interface Codecs {
  decode(format: SourceFormat, bytes: Uint8Array): Promise<ImageData>;
  encode(format: Format, image: ImageData, quality: number): Promise<Uint8Array>;
  /** Lanczos3 to exactly width×height, in sRGB space; premultiplied only if the image has alpha. */
  resize(image: ImageData, width: number, height: number, hasAlpha: boolean): Promise<ImageData>;
  /** The last message a codec printed (mozjpeg reports its errors this way), for diagnostics. */
  lastDiagnostic(): string | undefined;
}

// Emscripten codecs print warnings and errors instead of returning them; keep the last one
// for error causes rather than writing to the host's stderr.
let lastMessage: string | undefined;
const emscriptenOptions = {
  print: () => {},
  printErr: (msg: string) => {
    lastMessage = msg;
  },
};

// The published typings only declare init(overrides); the implementations also take a Module first.
type EmscriptenInit = (module: WebAssembly.Module, overrides: typeof emscriptenOptions) => Promise<unknown>;
type BindgenInit = (module: WebAssembly.Module) => Promise<unknown>;

let ready: Promise<void> | undefined;
let initialised: CodecModules | undefined;

function initOnce(m: CodecModules): Promise<void> {
  installImageDataPolyfill();
  initialised ??= m;
  ready ??= Promise.all([
    (initJpegDecode as unknown as EmscriptenInit)(m.jpegDec, emscriptenOptions),
    (initJpegEncode as unknown as EmscriptenInit)(m.jpegEnc, emscriptenOptions),
    (initWebpDecode as unknown as EmscriptenInit)(m.webpDec, emscriptenOptions),
    (initWebpEncode as unknown as EmscriptenInit)(m.webpEnc, emscriptenOptions),
    (initPng as BindgenInit)(m.pngWasm),
    (initResize as BindgenInit)(m.resize),
  ]).then(() => undefined);
  return ready;
}

/**
 * A failed mozjpeg decode ends in Emscripten's exit(), which unwinds without restoring the
 * WebAssembly stack or freeing the heap: after 71 failures, whatever their size, the instance
 * is broken for good ("memory access out of bounds" on valid files), so 72 requests for one
 * corrupt original would end JPEG rendering for the process. A fresh instance from the
 * compiled module costs a few milliseconds: replace the decoder after any failure (libwebp
 * fails cleanly, but the same reset is cheap insurance).
 */
async function replaceDecoder(format: 'jpeg' | 'webp'): Promise<void> {
  if (!initialised) return;
  if (format === 'jpeg') await (initJpegDecode as unknown as EmscriptenInit)(initialised.jpegDec, emscriptenOptions);
  else await (initWebpDecode as unknown as EmscriptenInit)(initialised.webpDec, emscriptenOptions);
}

/** Decodes at least this large replace their decoder afterwards (see decode). */
export const LARGE_DECODE_PIXELS = 4_000_000;

const view = (buf: ArrayBuffer | ArrayBufferLike): Uint8Array => new Uint8Array(buf);

export function createCodecs(modules: CodecModules): Codecs {
  const init = () => initOnce(modules);
  return {
    async decode(format, bytes) {
      await init();
      // The decoders accept typed arrays (embind / wasm-bindgen copy them in); typings say ArrayBuffer.
      const input = bytes as unknown as ArrayBuffer;
      lastMessage = undefined;
      if (format === 'png') {
        const problem = pngStructureProblem(bytes);
        if (problem) throw new Error(problem);
        return pngDecode(input);
      }
      let image: ImageData;
      try {
        image = await (format === 'jpeg' ? jpegDecode(input) : webpDecode(input));
      } catch (err) {
        await replaceDecoder(format);
        throw err;
      }
      // WebAssembly memory only grows: after a large decode (~110 MB for 16 MP) the instance
      // would keep that peak for the life of the process. A fresh one lets the garbage
      // collector take it back (at once: released later, when idle, nothing triggers the GC).
      // The price: the next large decode grows its memory again, ~10% slower (npm run bench).
      if (image.width * image.height >= LARGE_DECODE_PIXELS) await replaceDecoder(format);
      return image;
    },

    async encode(format, image, quality) {
      await init();
      if (format === 'webp') return view(await webpEncode(image, { quality }));
      // Baseline (non-progressive) JPEG encodes in about half the time for ~2% more bytes.
      if (format === 'jpeg') return view(await jpegEncode(image, { quality, progressive: false }));
      return view(await pngEncode(image));
    },

    async resize(image, width, height, hasAlpha) {
      await init();
      // linearRGB and needless premultiply put the resizer on a 2.6–6× slower path (PLATFORM.md);
      // sRGB-space lanczos3 matches libvips' output. fitMethod stays 'stretch': geometry is ours.
      const out = await resize(toImageData(image.data as Uint8ClampedArray, image.width, image.height), {
        width,
        height,
        method: 'lanczos3',
        fitMethod: 'stretch',
        premultiply: hasAlpha,
        linearRGB: false,
      });
      return out;
    },

    lastDiagnostic: () => lastMessage,
  };
}
