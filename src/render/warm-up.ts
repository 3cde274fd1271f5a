/**
 * Runs every codec once on a tiny image at start-up, so a wrong binary (e.g. a WebP encoder
 * build that does not match its glue) fails the boot, not the first request. With `photos`
 * (the Node host: jsquash-renderer.ts `photoWarmUp`), then renders a photo-like image from each
 * kind of source a photo arrives as, at each decode scale: V8 runs WebAssembly in its baseline
 * compiler first and compiles a function with its optimising one only once that function has
 * run a while, in the background. Without this pass the first hundred or so renders of a new
 * process pay for that (first-touch probe under perf: 2.15% of the CPU went to compiling
 * WebAssembly during the 100 requests; with it, two functions are left to compile).
 */
import { sniffImage } from '../core/image/sniff.js';
import type { Renderer } from '../core/ports.js';
import { type Format, FORMATS, type Variant } from '../core/variant.js';
import type { Codecs, EncodeStyle } from './codecs.js';
import { toImageData } from './image-data.js';

export type WarmUpReport = Record<string, number>;

/** n×n gradient with a transparent corner, so the alpha paths run too. */
function sample(n = 16): ImageData {
  const d = new Uint8ClampedArray(n * n * 4);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = (y * n + x) * 4;
      d.set([x * 16, y * 16, 128, x + y < 6 ? 0 : 255], i);
    }
  }
  return toImageData(d, n, n);
}

/** Adds deterministic noise, so a JPEG of it has the AC coefficients a photo has. */
function noisy(image: ImageData): ImageData {
  let seed = 1;
  for (let i = 0; i < image.data.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    if (i % 4 !== 3) image.data[i] = ((image.data[i] as number) + (seed >>> 27)) & 255;
  }
  return image;
}

/**
 * AVIF is left out: its encoder and decoder instances hold ~40 MB a render thread once
 * created (measured RSS after warm-up 158 MB against 113–124 without), and most tenants never
 * use them; the first AVIF render or AVIF source of a thread instantiates them (~0.1–0.5 s).
 */
const WARM_FORMATS: readonly Format[] = FORMATS.filter((f) => f !== 'avif');

/** Renders `source` (`what`) to a `side`×`side` cover in `to`; the warm-up fails unless that is what comes out. */
async function renderChecked(renderer: Renderer, source: Uint8Array, what: string, to: Format, side: number): Promise<void> {
  const variant: Variant = { tenant: '_', id: '_', width: side, height: side, fit: 'cover', format: to, quality: 75, version: '', negotiated: false };
  const info = sniffImage((await renderer.render(source, variant)).body);
  if (info?.format !== to || info.width !== side || info.height !== side) {
    throw new Error(`codec warm-up failed: ${what} → ${to} ${side}×${side} produced ${info ? `${info.format} ${info.width}×${info.height}` : 'unreadable output'}`);
  }
}

export async function warmUp(renderer: Renderer, codecs: Codecs, opts: { photos?: boolean } = {}): Promise<WarmUpReport> {
  const report: WarmUpReport = {};
  const pixels = sample();
  for (const from of WARM_FORMATS) {
    const source = await codecs.encode(from, pixels, 75);
    const to = WARM_FORMATS[(WARM_FORMATS.indexOf(from) + 1) % WARM_FORMATS.length] ?? 'webp';
    const t = performance.now();
    await renderChecked(renderer, source, from, to, 8);
    report[`${from}→${to}`] = performance.now() - t;
  }
  // The reduced-scale JPEG decoder (jpeg-scaled.ts), at each scale, on a photo-like JPEG.
  const jpeg = await codecs.encode('jpeg', noisy(sample(128)), 90);
  const t = performance.now();
  for (const d of [2, 4, 8] as const) {
    const image = codecs.decodeReduced(jpeg, d);
    if (image?.width !== 128 / d) throw new Error(`codec warm-up failed: the reduced JPEG decoder returned ${image ? `${image.width}×${image.height}` : 'nothing'} at 1/${d}`);
  }
  report['jpeg reduced decode'] = performance.now() - t;
  if (opts.photos) await photoPass(renderer, codecs, report);
  return report;
}

/**
 * A w×h photo stand-in: soft gradients, hard edges and sensor-like noise, so encoders write
 * what they write for photos (AC coefficients, filter choices, predictors) and decoders read it.
 */
function photo(w: number, h: number, alpha: boolean): ImageData {
  const d = new Uint8ClampedArray(w * h * 4);
  let seed = 7;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const n = (seed >>> 27) - 16;
      const edge = ((x >> 6) + (y >> 6)) & 1 ? 40 : 0;
      const i = (y * w + x) * 4;
      d[i] = ((x * 255) / w + n + edge) | 0;
      d[i + 1] = ((y * 255) / h + n) | 0;
      d[i + 2] = (128 + 100 * Math.sin((x + y) / 37) + n - edge) | 0;
      const r = Math.hypot(x - w / 2, y - h / 2) / (h / 2);
      d[i + 3] = alpha ? (r < 0.8 ? 255 : r > 1 ? 0 : ((1 - r) * 1275) | 0) : 255;
    }
  }
  return toImageData(d, w, h);
}

/**
 * Sources as photos arrive (format, style, alpha), each encoded once and rendered at `sides`.
 * Small: the encoders' WebAssembly memories never shrink, so a source larger than the variants
 * requests encode would raise the process's RSS for good (768×512 sources left it 110 MB
 * larger), and encoding is most of this pass's time (~0.4 s a render thread). 288 rows are
 * enough for the decoders' and resizer's inner loops to be optimised.
 */
const PHOTO_SOURCES: readonly { format: Format; style?: EncodeStyle; alpha?: boolean; size: readonly [number, number]; sides: readonly number[] }[] = [
  // 288 px high: 144 decodes a JPEG at 1/1, 80 at 1/2, 48 at 1/4, 24 at 1/8 (jpeg-scaled.ts).
  { format: 'jpeg', size: [384, 288], sides: [144, 80, 48, 24] },
  { format: 'jpeg', style: { progressive: true }, size: [384, 288], sides: [80, 24] },
  { format: 'png', size: [384, 288], sides: [144, 48] },
  { format: 'png', alpha: true, size: [256, 192], sides: [64] },
  { format: 'webp', size: [384, 288], sides: [144, 48] },
  { format: 'webp', alpha: true, size: [256, 192], sides: [64] },
  // Lossless encoding is slow and takes memory no request needs again: a small one.
  { format: 'webp', style: { lossless: true }, size: [128, 96], sides: [48] },
];
const OUTPUTS: readonly Format[] = ['webp', 'jpeg', 'webp', 'png'];

async function photoPass(renderer: Renderer, codecs: Codecs, report: WarmUpReport): Promise<void> {
  const t = performance.now();
  let k = 0;
  for (const s of PHOTO_SOURCES) {
    const source = await codecs.encode(s.format, photo(s.size[0], s.size[1], s.alpha === true), 85, s.style);
    for (const side of s.sides) await renderChecked(renderer, source, `a ${s.format} photo`, OUTPUTS[k++ % OUTPUTS.length]!, side);
  }
  report['photo renders'] = performance.now() - t;
}
