/**
 * The jsquash codecs behind one small interface, initialised once per process with the
 * modules the host compiled. jsquash keeps codec state in module scope, so "once" is global:
 * later calls reuse the first initialisation.
 */
import jpegDecode, { init as initJpegDecode } from '@jsquash/jpeg/decode.js';
import jpegEncode, { init as initJpegEncode } from '@jsquash/jpeg/encode.js';
// wasm-bindgen's synchronous init, not @jsquash/png's `init`: the async one asks `typeof Request`
// and `typeof Response`, and in Node that question alone loads undici (fetch) into the isolate.
// A render thread's heap after a full collection: 7.7 MB with it, 5.9 without; each of those
// collections (after large decodes, serve-thread.ts) marks it: 7.7–10.5 → 5.6–6.7 ms.
import { initSync as initPngSync } from '@jsquash/png/codec/pkg/squoosh_png.js';
import pngEncode from '@jsquash/png/encode.js';
import webpEncode, { init as initWebpEncode } from '@jsquash/webp/encode.js';
import type { SourceFormat } from '../core/image/sniff.js';
import type { Format } from '../core/variant.js';
import type { CodecModules } from './codec-modules.js';
import { createAvifCodec } from './avif-codec.js';
import { isAnimatedWebp } from '../core/image/animation-header.js';
import { installImageDataPolyfill, toImageData, imageDataAcceptsAnyPixels } from './image-data.js';
import { JPEG_STRUCTURE_PROBLEMS } from './jpeg-dc-scans.js';
import { createScaledJpegDecoder, type ScaleDenominator } from './jpeg-scaled.js';
import { createWasmDecoder, type DecoderExports, KEEP_MEMORY_BYTES, sharedInstance } from './wasm-decoder.js';
import type { Rect } from './geometry.js';
import { copyRegion, cropAndShrink } from './pre-shrink.js';

/**
 * A decode that wants only something derived from the pixels (a master's box shrink): `use`
 * runs synchronously on the decoded `width`×`height` image and returns pixels that do not
 * alias it. For JPEG and WebP it reads the decoder's output where it lies, in WebAssembly
 * memory, so the full-size JavaScript copy (64 MB at 16 MP, alive next to the decoder's
 * ~110 MB) is never made.
 */
export interface DecodeInto {
  width: number;
  height: number;
  use(image: ImageData): ImageData;
}

/** How a source is written: a progressive JPEG, a lossless WebP. */
export interface EncodeStyle {
  progressive?: boolean;
  lossless?: boolean;
}

export interface Codecs {
  /**
   * The decoded image, or with `into` what its `use` made of it. A still WebP or a
   * non-interlaced PNG is decoded at 1/`denominator` scale (⌈width/d⌉ × ⌈height/d⌉: libwebp's
   * rescaler, or png_rgba.rs averaging d×d blocks, shrinking rows as they are decoded; `into`
   * is then ignored); every other format at full size.
   */
  decode(format: SourceFormat, bytes: Uint8Array, into?: DecodeInto, denominator?: ScaleDenominator): Promise<ImageData>;
  /**
   * A JPEG decoded at 1/`denominator` scale (jpeg-scaled.ts), or undefined when that decoder
   * cannot read it (arithmetic coding, 12-bit, CMYK, a damaged file): then `decode` decides.
   */
  decodeReduced(bytes: Uint8Array, denominator: ScaleDenominator): ImageData | undefined;
  /**
   * `image` (decoded by mozjpeg or libwebp, which ignore colour profiles) converted from the
   * colour space `icc` describes to sRGB (colour/embedded-icc.ts; moxcms in jpeg_scaled.wasm).
   * The project's own JPEG and PNG decoders (`decodeReduced`, PNG `decode`) convert by the
   * file's profile themselves.
   */
  toSrgb(image: ImageData, icc: Uint8Array): ImageData;
  /**
   * jpeg-dc-scans.ts `jpegStructureProblem`'s verdict on a JPEG, from the same walk in
   * WebAssembly (jpeg_structure.rs: sixteen bytes at a time, where JavaScript's `indexOf` per
   * 0xFF of entropy-coded data took ~0.5 ms a MB).
   */
  jpegStructureProblem(bytes: Uint8Array): string | null;
  /**
   * `image` (decoded by libavif from an AVIF whose colour is named only by CICP codes, H.273)
   * converted to sRGB when those name another SDR colour space (Display P3, BT.2020, …);
   * unchanged for sRGB/BT.709 primaries and for PQ or HLG (colour.rs `cicp_profile`).
   */
  cicpToSrgb(image: ImageData, cicp: { primaries: number; transfer: number }): ImageData;
  /** `style` is for making test and warm-up sources: renders always encode baseline JPEG and lossy WebP. */
  encode(format: Format, image: ImageData, quality: number, style?: EncodeStyle): Promise<Uint8Array>;
  /**
   * The resize stage: `region` of the image, box-shrunk by the integer `factor` (the region
   * trimmed as pre-shrink.ts trims it), then lanczos3 to exactly width×height, in sRGB space;
   * premultiplied only if the image has alpha. Both in wasm/jpeg-scaled: src/fit.rs, and
   * src/alpha_lanczos.rs for alpha.
   */
  resize(image: ImageData, region: Rect, factor: number, width: number, height: number, hasAlpha: boolean): Promise<ImageData>;
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

let ready: Promise<void> | undefined;
let initialised: CodecModules | undefined;

/*
 * The mozjpeg glue (embind) ends a decode with
 * `ImageData.new_(Uint8ClampedArray.new_(typed_memory_view(output)), w, h)`, then frees the
 * output: the Uint8ClampedArray constructor copies the pixels out of WebAssembly memory. Each
 * decoder instance looks `Uint8ClampedArray` up once, at its first decode, and keeps what it
 * found; so during that first decode the global is this proxy, which constructs exactly as
 * the real one unless a decode set `capture`: then the view into WebAssembly memory is handed
 * to it (still valid: the free comes after) and an empty array stands in for the copy.
 */
const RealClamped = globalThis.Uint8ClampedArray;
/** A decoder's or resizer's RGBA output, copied out of WebAssembly memory (`WasmDecoder.run`'s `take`). */
const copyOut = (rgba: Uint8Array, width: number, height: number): ImageData => toImageData(new RealClamped(rgba), width, height);
let capture: ((view: Uint8Array) => boolean) | undefined;
const capturingClamped = new Proxy(RealClamped, {
  construct(target, args: unknown[]) {
    const view = args[0];
    const take = capture;
    capture = undefined;
    if (take && args.length === 1 && view instanceof Uint8Array && take(view)) return new RealClamped(0);
    return Reflect.construct(target, args);
  },
});
/**
 * How full-size JPEG decodes with a DecodeInto got their pixels: `captured` read them in
 * WebAssembly memory, `copied` fell back to the decoder's full-size copy (the trick above no
 * longer works: the glue changed). test/render/decode-into.test.ts fails on any copy.
 */
export const decodeIntoPaths = { captured: 0, copied: 0 };
/** Whether the decoder instance has not decoded yet: its first decode binds the proxy. */
let unbound = true;

/**
 * mozjpeg decodes one after the other: `capture` and a decoder replacement belong to one
 * decode at a time. Costs nothing: the decode itself is synchronous WebAssembly anyway.
 */
let decoding: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(run: () => Promise<T>): Promise<T> {
  const next = decoding.then(run, run);
  decoding = next.catch(() => {});
  return next;
}

async function bindingDecode<T>(run: () => Promise<T>): Promise<T> {
  if (!unbound) return run();
  unbound = false;
  globalThis.Uint8ClampedArray = capturingClamped;
  try {
    return await run();
  } finally {
    globalThis.Uint8ClampedArray = RealClamped;
  }
}

function initOnce(m: CodecModules): Promise<void> {
  installImageDataPolyfill();
  initialised ??= m;
  if (!ready) unbound = true;
  ready ??= Promise.all([
    (initJpegDecode as unknown as EmscriptenInit)(m.jpegDec, emscriptenOptions),
    (initJpegEncode as unknown as EmscriptenInit)(m.jpegEnc, emscriptenOptions),
    (initWebpEncode as unknown as EmscriptenInit)(m.webpEnc, emscriptenOptions),
    initPngSync(m.pngWasm),
  ]).then(() => undefined);
  return ready;
}

/**
 * A failed mozjpeg decode ends in Emscripten's exit(), which unwinds without restoring the
 * WebAssembly stack or freeing the heap: after 71 failures, whatever their size, the instance
 * is broken for good ("memory access out of bounds" on valid files), so 72 requests for one
 * corrupt original would end JPEG rendering for the process. A fresh instance from the
 * compiled module costs a few milliseconds: replace the decoder after any failure.
 */
async function replaceJpegDecoder(): Promise<void> {
  if (!initialised) return;
  unbound = true;
  await (initJpegDecode as unknown as EmscriptenInit)(initialised.jpegDec, emscriptenOptions);
}

/**
 * mozjpeg warnings that mean pixels were made up: libjpeg fills missing or undecodable
 * entropy-coded data with grey and carries on. Stray bytes between segments
 * ("N extraneous bytes before marker") lose nothing, and some cameras write them.
 */
const FILLED_IN = /^(Premature end of JPEG file|Corrupt JPEG data(?!: \d+ extraneous bytes)|Invalid SOS parameters|Inconsistent progression)/;

/** Decodes at least this large replace their decoder afterwards (see decode). */
export const LARGE_DECODE_PIXELS = 4_000_000;

const view = (buf: ArrayBuffer | ArrayBufferLike): Uint8Array => new Uint8Array(buf);

export interface CodecOptions {
  /**
   * A full garbage collection (Node: src/hosts/node/expose-gc.ts), run right after a large
   * decode has replaced its decoder, so the old instance's WebAssembly memory (~110 MB for
   * 16 MP) goes at once instead of whenever V8 next collects: later it sat next to the
   * resize and encode memories and set the render's peak.
   */
  collectGarbage?: () => void;
  /**
   * With `collectGarbage`: past this much WebAssembly memory an instance is dropped after a
   * call (default wasm-decoder.ts KEEP_MEMORY_BYTES). Larger keeps more memory between renders
   * and spares the collection and page faults of growing a fresh instance for the next one.
   */
  keepInstanceBytes?: number;
}

export function createCodecs(modules: CodecModules, opts: CodecOptions = {}): Codecs {
  const init = () => initOnce(modules);
  // The reduced JPEG decoder, PNG decoder, colour conversion, first frames and resize are one
  // module (wasm/jpeg-scaled) and run one after another: one instance serves them all, so a
  // thread keeps one memory between renders, not five (wasm-decoder.ts SharedInstance).
  const jpegScaled = sharedInstance(modules.jpegScaled);
  const keep = opts.collectGarbage ? (opts.keepInstanceBytes ?? KEEP_MEMORY_BYTES) : undefined;
  const reduced = createScaledJpegDecoder(modules.jpegScaled, { afterDrop: opts.collectGarbage, shared: jpegScaled, keepBytes: keep });
  // PNGs decode with the project's own build of the png crate (wasm/jpeg-scaled/src/png_rgba.rs),
  // not @jsquash/png's: that one throws out of WebAssembly on a bad file, keeping what it had
  // allocated in a memory that never shrinks and an instance that cannot be replaced
  // (~15 MB per failed request); ours returns the error and its instance is dropped.
  const png = createWasmDecoder(modules.jpegScaled, 'png', opts.collectGarbage, keep, jpegScaled);
  const colour = createWasmDecoder(modules.jpegScaled, 'colour', opts.collectGarbage, keep, jpegScaled);
  const structure = createWasmDecoder(modules.jpegScaled, 'jpeg structure', opts.collectGarbage, keep, jpegScaled);
  const avif = createAvifCodec(modules, emscriptenOptions);
  // GIF and animated WebP: the first frame, by the same module (wasm/jpeg-scaled/src/gif_rgba.rs, webp_first_frame.rs).
  const gif = createWasmDecoder(modules.jpegScaled, 'gif', opts.collectGarbage, keep, jpegScaled);
  // The resize copies a region in (a 2 MP crop is 8 MB) after the decode, in the same instance:
  // where the host collects at once it keeps what the decoders keep, so the next render reuses
  // that memory (before, a 16 MB cap of its own dropped the instance after nearly every
  // first-touch render); elsewhere at most a small instance.
  const fit = createWasmDecoder(modules.jpegScaled, 'resize', opts.collectGarbage, keep ?? 16 * 1024 * 1024, jpegScaled);
  // Still WebPs: libwebp with SIMD and shrink-on-load (wasm/webp-rgba, scripts/build-webp-rgba.sh).
  const webp = createWasmDecoder(modules.webpDec, 'webp', opts.collectGarbage, keep);
  /** Pixels a decoder left in WebAssembly memory: `into.use` reads them where they lie (no full-size copy next to the decoder's), else a copy. */
  const takeDecoded =
    (into: DecodeInto | undefined) =>
    (rgba: Uint8Array, width: number, height: number): ImageData => {
      if (into && width === into.width && height === into.height) {
        return into.use(new ImageData(new RealClamped(rgba.buffer, rgba.byteOffset, rgba.byteLength) as Uint8ClampedArray<ArrayBuffer>, width, height));
      }
      const image = copyOut(rgba, width, height);
      return into ? into.use(image) : image;
    };
  // (decode-source.ts has checked the chunk structure first; the decoder checks it again anyway.)
  const decodePng = (bytes: Uint8Array, into: DecodeInto | undefined, denominator: number): ImageData =>
    png.run(bytes, (ex, len) => ex.decode_png(len, denominator), takeDecoded(denominator > 1 ? undefined : into));
  async function decodeJpeg(input: ArrayBuffer, into: DecodeInto | undefined): Promise<ImageData> {
    // Only with a stand-in ImageData: it takes the empty array as it comes (a native one would refuse it).
    const direct = into !== undefined && imageDataAcceptsAnyPixels();
    let made: ImageData | undefined;
    let image: ImageData;
    lastMessage = undefined;
    try {
      if (direct) {
        capture = (view) => {
          if (view.byteLength !== into.width * into.height * 4 || view.byteOffset % 4 !== 0) return false;
          made = into.use(new ImageData(new RealClamped(view.buffer, view.byteOffset, view.byteLength) as Uint8ClampedArray<ArrayBuffer>, into.width, into.height));
          return true;
        };
      }
      image = await bindingDecode(() => jpegDecode(input));
      // libjpeg prints only the first warning of a decode; it is enough to tell.
      if (lastMessage !== undefined && FILLED_IN.test(lastMessage)) throw new Error(`mozjpeg: ${lastMessage}`);
    } catch (err) {
      await replaceJpegDecoder();
      throw err;
    } finally {
      capture = undefined;
    }
    // WebAssembly memory only grows: after a large decode (~110 MB for 16 MP) the instance
    // would keep that peak for the life of the process. A fresh one lets the garbage
    // collector take it back (at once: released later, when idle, nothing triggers the GC).
    // The price: the next large decode grows its memory again, ~10% slower (npm run bench).
    if (image.width * image.height >= LARGE_DECODE_PIXELS) {
      await replaceJpegDecoder();
      opts.collectGarbage?.();
    }
    if (!into) return image;
    if (made === undefined) {
      decodeIntoPaths.copied++;
      return into.use(image); // not captured (unexpected size or alignment): from the copy
    }
    if (image.width !== into.width || image.height !== into.height) throw new Error(`decoder returned ${image.width}×${image.height}, expected ${into.width}×${into.height}`);
    decodeIntoPaths.captured++;
    return made;
  }

  return {
    async decode(format, bytes, into, denominator = 1) {
      await init();
      // The decoders accept typed arrays (embind / wasm-bindgen copy them in); typings say ArrayBuffer.
      const input = bytes as unknown as ArrayBuffer;
      lastMessage = undefined;
      if (format === 'png') return decodePng(bytes, into, denominator);
      if (format === 'gif' || (format === 'webp' && isAnimatedWebp(bytes))) {
        // First frames, by the gif and image-webp crates in jpeg_scaled.wasm (libwebp here decodes stills only).
        const decode = format === 'gif' ? (ex: DecoderExports, len: number) => ex.decode_gif(len) : (ex: DecoderExports, len: number) => ex.decode_animated_webp(len);
        const image = gif.run(bytes, decode, copyOut);
        return into ? into.use(image) : image;
      }
      if (format === 'avif') {
        const image = await avif.decode(bytes);
        return into ? into.use(image) : image;
      }
      if (format === 'webp') return webp.run(bytes, (ex, len) => ex.decode(len, denominator), takeDecoded(denominator > 1 ? undefined : into));
      return oneAtATime(() => decodeJpeg(input, into));
    },

    decodeReduced(bytes, denominator) {
      try {
        return reduced.decode(bytes, denominator);
      } catch (err) {
        lastMessage = String(err);
        return undefined;
      }
    },

    jpegStructureProblem(bytes) {
      const code = structure.inspect(bytes, (ex, len) => ex.jpeg_structure(len));
      if (code === 0) return null;
      const problem = JPEG_STRUCTURE_PROBLEMS[code as keyof typeof JPEG_STRUCTURE_PROBLEMS];
      if (!problem) throw new Error(`jpeg_structure: unknown code ${code}`);
      return problem;
    },

    toSrgb(image, icc) {
      // The pixels, then the profile, written straight into WebAssembly memory, where they are
      // converted in place (lib.rs `to_srgb`): no joined copy here, none there.
      const pixels = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
      const input = {
        length: pixels.length + icc.length,
        writeTo: (memory: Uint8Array) => {
          memory.set(pixels);
          memory.set(icc, pixels.length);
        },
      };
      return colour.run(input, (ex, len) => ex.to_srgb(len, icc.length, image.width, image.height), copyOut);
    },

    cicpToSrgb(image, { primaries, transfer }) {
      return colour.run(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength), (ex, len) => ex.cicp_to_srgb(len, primaries, transfer, image.width, image.height), copyOut);
    },

    async encode(format, image, quality, style = {}) {
      await init();
      if (format === 'webp') return view(await webpEncode(image, style.lossless ? { quality, lossless: 1 } : { quality }));
      // Baseline (non-progressive) JPEG encodes in about half the time for ~2% more bytes.
      if (format === 'jpeg') return view(await jpegEncode(image, { quality, progressive: style.progressive === true }));
      if (format === 'avif') return avif.encode(image, quality);
      return view(await pngEncode(image));
    },

    async resize(image, region, factor, width, height, hasAlpha) {
      // Already the target's size: the crop alone (no resizer round trip).
      if (factor <= 1 && region.width === width && region.height === height) return cropAndShrink(image, region, 1, hasAlpha);
      // Only the region's rows go into WebAssembly memory, straight from the image.
      const input = { length: region.width * region.height * 4, writeTo: (memory: Uint8Array) => copyRegion(image, region, memory) };
      if (hasAlpha) {
        // Premultiplied in floating point (fit.rs `fit_alpha`: the alpha-weighted box, then
        // lanczos3 as four-lane SIMD): an 8- or 16-bit premultiply clamps lanczos3's overshoot
        // of alpha before the divide and tints opaque pixels by the edge up to ~13 levels
        // (test/render/alpha-edge.test.ts).
        return fit.run(input, (ex, len) => ex.fit_alpha_rgba(len, region.width, region.height, factor, width, height), copyOut);
      }
      // Opaque (nearly every photo): fast_image_resize's SIMD box and lanczos3, in sRGB space like libvips.
      return fit.run(input, (ex, len) => ex.fit_rgba(len, region.width, region.height, factor, width, height), copyOut);
    },

    lastDiagnostic: () => lastMessage,
  };
}
