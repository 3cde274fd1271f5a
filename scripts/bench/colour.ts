/**
 * Colour suite: sources with embedded ICC profiles against sharp's (lcms2) conversion of the
 * same files, and what colour management adds to a render. Fixtures are made here from the
 * corpus with sharp: a Display P3 colour chart, an Adobe RGB photo, a CMYK photo (with and
 * without its profile).
 */
import sharp, { type Sharp } from 'sharp';
import { loadCodecModules } from '../../src/hosts/node/load-wasm.js';
import { createCodecs } from '../../src/render/codecs.js';
import { decodeSource } from '../../src/render/decode-source.js';
import { createJsquashRenderer } from '../../src/render/jsquash-renderer.js';
import { ADOBE_RGB, iccProfileFile } from '../../test/support/icc-profile.js';
import { loadCorpus } from './lib/corpus.js';
import type { Headline, SuiteReport } from './lib/report.js';
import { fmt, geomean, median, ms, ratio } from './lib/stats.js';

const LIMITS = { maxSourceBytes: 100_000_000, maxSourcePixels: 100_000_000 };

/** A 768×256 chart: hue across, saturation and lightness down, saturated primaries on top. */
async function chart(): Promise<Sharp> {
  const [w, h] = [768, 256];
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const hue = (x / w) * 6;
      const s = y < h / 2 ? 1 : 1 - (y - h / 2) / (h / 2);
      const v = y < h / 2 ? 0.3 + (0.7 * y) / (h / 2) : 1;
      const f = hue - Math.floor(hue);
      const [p, q, t] = [v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))];
      const rgb = [
        [v, t, p],
        [q, v, p],
        [p, v, t],
        [p, q, v],
        [t, p, v],
        [v, p, q],
      ][Math.floor(hue) % 6]!;
      px.set(
        rgb.map((c) => Math.round(c * 255)),
        (y * w + x) * 3,
      );
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } });
}

/** Mean absolute difference over R, G, B of two images with `sa` and `sb` channels a pixel. */
function mae(a: Uint8Array | Uint8ClampedArray, sa: number, b: Uint8Array, sb: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length; i += sa, j += sb) {
    for (let c = 0; c < 3; c++) sum += Math.abs(a[i + c]! - b[j + c]!);
    n += 3;
  }
  return sum / n;
}

/** `file` without its ICC profile: JPEG APP2 ICC_PROFILE segments or the PNG iCCP chunk dropped. */
function withoutProfile(file: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const tag = (at: number, len: number) => String.fromCharCode(...file.subarray(at, at + len));
  if (file[0] === 0xff) {
    let i = 2;
    let from = 0;
    while (i + 4 <= file.length && file[i + 1] !== 0xda) {
      const len = (file[i + 2]! << 8) | file[i + 3]!;
      if (file[i + 1] === 0xe2 && tag(i + 4, 12) === 'ICC_PROFILE\0') {
        parts.push(file.subarray(from, i));
        from = i + 2 + len;
      }
      i += 2 + len;
    }
    parts.push(file.subarray(from));
  } else {
    let i = 8;
    parts.push(file.subarray(0, 8));
    while (i + 12 <= file.length) {
      const len = ((file[i]! << 24) >>> 0) + ((file[i + 1]! << 16) | (file[i + 2]! << 8) | file[i + 3]!);
      if (tag(i + 4, 4) !== 'iCCP') parts.push(file.subarray(i, i + 12 + len));
      i += 12 + len;
    }
  }
  return new Uint8Array(Buffer.concat(parts));
}

export async function runColour({ quick }: { quick: boolean }): Promise<SuiteReport> {
  const codecs = createCodecs(await loadCodecModules());
  const corpus = loadCorpus();
  const photo = corpus.find((c) => c.id === 'seeding') ?? corpus[0]!;
  const fixtures: Array<[string, Buffer]> = [
    ['Display P3 chart (JPEG q95)', await (await chart()).withIccProfile('p3').jpeg({ quality: 95 }).toBuffer()],
    ['Display P3 chart (PNG)', await (await chart()).withIccProfile('p3').png().toBuffer()],
    ['Adobe RGB photo (JPEG q95)', await sharp(photo.bytes).resize(1024).withIccProfile(iccProfileFile(ADOBE_RGB)).jpeg({ quality: 95 }).toBuffer()],
    ['CMYK photo with profile (JPEG q95)', await sharp(photo.bytes).resize(1024).withIccProfile('cmyk').jpeg({ quality: 95 }).toBuffer()],
    ['CMYK photo without profile (JPEG q95)', await sharp(photo.bytes).resize(1024).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer()],
  ];
  const headlines: Headline[] = [];
  const accuracy: string[][] = [];
  for (const [label, file] of fixtures) {
    const ref = await sharp(file).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const ignored = await sharp(file, { ignoreIcc: true }).toColourspace('srgb').raw().toBuffer();
    const { image } = await decodeSource(codecs, new Uint8Array(file), LIMITS);
    const ch = ref.info.channels;
    const ours = mae(image.data, 4, ref.data, ch);
    // For CMYK, sharp converts with its default profile even when told to ignore the file's.
    accuracy.push([label, fmt(ours, 2), fmt(mae(ignored, ch, ref.data, ch), 1)]);
    headlines.push({
      metric: `mean abs difference vs sharp: ${label}`,
      ours: fmt(ours, 2),
      reference: '0',
      referenceName: `sharp ${sharp.versions.sharp} ICC → sRGB`,
      ratio: '',
      target: '≤ 2 levels',
      met: ours <= 2,
    });
  }

  // Cost: the same pixels rendered with and without an embedded profile, interleaved.
  const renderer = createJsquashRenderer(await loadCodecModules());
  const variant = (size: number) => ({ tenant: 'demo', id: 'bench', width: size, height: size, fit: 'cover' as const, format: 'webp' as const, quality: 80, version: '', negotiated: false });
  const costs: string[][] = [];
  const ratios: number[] = [];
  const rounds = quick ? 5 : 9;
  for (const source of corpus.filter((c) => /\.(jpe?g|png)$/.test(c.file))) {
    const tagged = new Uint8Array(
      await sharp(source.bytes)
        .withIccProfile('p3')
        .toFormat(source.file.endsWith('png') ? 'png' : 'jpeg', { quality: 95 })
        .toBuffer(),
    );
    // The same file with its profile removed: same encoding and pixels, only the conversion differs.
    const untagged = withoutProfile(tagged);
    if (untagged.length >= tagged.length) throw new Error(`${source.file}: no profile found to remove`);
    for (const size of [128, 512]) {
      const times: Record<'untagged' | 'tagged', number[]> = { untagged: [], tagged: [] };
      await renderer.render(untagged, variant(size));
      await renderer.render(tagged, variant(size));
      for (let i = 0; i < rounds; i++) {
        for (const [k, bytes] of [
          ['untagged', untagged],
          ['tagged', tagged],
        ] as const) {
          const t = performance.now();
          await renderer.render(bytes, variant(size));
          times[k].push(performance.now() - t);
        }
      }
      const [u, t] = [median(times.untagged), median(times.tagged)];
      ratios.push(t / u);
      costs.push([`${source.file} → ${size} webp`, ms(u), ms(t), ratio(t, u)]);
    }
  }
  // Geometric mean over the renders: single medians on a shared machine swing ±30%.
  const typical = geomean(ratios);
  headlines.push({
    metric: `render time with a Display P3 profile (geometric mean of ${ratios.length} renders; worst ${ratio(Math.max(...ratios), 1)})`,
    ours: ratio(typical, 1),
    reference: '1×',
    referenceName: 'the same pixels without a profile',
    ratio: ratio(typical, 1),
    target: '≤ 1.10×',
    met: typical <= 1.1,
  });
  return {
    id: 'colour',
    title: 'Colour management',
    method:
      "Fixtures made from the corpus with sharp (which converts the sRGB pixels into the profile's space and embeds it), decoded by ours (decodeSource: moxcms in jpeg_scaled.wasm) and by sharp (lcms2) to sRGB; mean absolute difference over R, G, B. " +
      `Cost: each corpus JPEG/PNG re-encoded by sharp at q95 with a Display P3 profile and without one, rendered to WebP q80, interleaved, median of ${rounds}.`,
    headlines,
    tables: [
      { caption: 'Accuracy (levels, 0–255)', headers: ['fixture', 'ours vs sharp', 'profile ignored vs sharp'], rows: accuracy },
      { caption: 'Cost', headers: ['render', 'no profile', 'Display P3 profile', 'ratio'], rows: costs },
    ],
    notes: ['"Profile ignored" is what this service rendered before colour management: the stored numbers taken as sRGB.'],
  };
}
