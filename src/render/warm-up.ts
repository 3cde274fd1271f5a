/**
 * Runs every codec once on a tiny image at start-up: the first call of each is about 2× slower
 * (instantiate + tier-up), and a wrong binary (e.g. a WebP encoder build that does not match
 * its glue) should fail the boot, not the first request.
 */
import { sniffImage } from '../core/image/sniff.js';
import type { Renderer } from '../core/ports.js';
import { type Format, FORMATS, type Variant } from '../core/variant.js';
import type { Codecs } from './codecs.js';
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

export async function warmUp(renderer: Renderer, codecs: Codecs): Promise<WarmUpReport> {
  const report: WarmUpReport = {};
  const pixels = sample();
  for (const from of WARM_FORMATS) {
    const source = await codecs.encode(from, pixels, 75);
    const to = WARM_FORMATS[(WARM_FORMATS.indexOf(from) + 1) % WARM_FORMATS.length] ?? 'webp';
    const variant: Variant = { tenant: '_', id: '_', width: 8, height: 8, fit: 'cover', format: to, quality: 75, version: '', negotiated: false };
    const t = performance.now();
    const out = await renderer.render(source, variant);
    report[`${from}→${to}`] = performance.now() - t;
    const info = sniffImage(out.body);
    if (info?.format !== to || info.width !== 8 || info.height !== 8) {
      throw new Error(`codec warm-up failed: ${from} → ${to} produced ${info ? `${info.format} ${info.width}×${info.height}` : 'unreadable output'}`);
    }
  }
  // The reduced-scale JPEG decoder (jpeg-scaled.ts), at each scale, on a photo-like JPEG.
  const jpeg = await codecs.encode('jpeg', noisy(sample(128)), 90);
  const t = performance.now();
  for (const d of [2, 4, 8] as const) {
    const image = codecs.decodeReduced(jpeg, d);
    if (image?.width !== 128 / d) throw new Error(`codec warm-up failed: the reduced JPEG decoder returned ${image ? `${image.width}×${image.height}` : 'nothing'} at 1/${d}`);
  }
  report['jpeg reduced decode'] = performance.now() - t;
  return report;
}
