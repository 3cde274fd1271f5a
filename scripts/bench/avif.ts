/**
 * AVIF suite: the corpus resized to 64–512 px and encoded as WebP q75 and as AVIF at the q75
 * the service uses (src/render/avif-codec.ts), by the same codecs the renderer runs: bytes at
 * (about) equal SSIM, and encode time against WebP, interleaved.
 */
import sharp from 'sharp';
import { loadCodecModules } from '../../src/hosts/node/load-wasm.js';
import { AVIF_SPEED, avifQuality } from '../../src/render/avif-codec.js';
import { createCodecs } from '../../src/render/codecs.js';
import { toImageData } from '../../src/render/image-data.js';
import { loadCorpus } from './lib/corpus.js';
import type { SuiteReport } from './lib/report.js';
import { ssim } from './lib/ssim.js';
import { fmt, kb, median, ms, ratio, sum } from './lib/stats.js';

const SIZES = [64, 128, 256, 512];
const Q = 75;

async function gray(encoded: Uint8Array | Buffer): Promise<Uint8Array> {
  return new Uint8Array(await sharp(encoded).flatten({ background: '#ffffff' }).greyscale().raw().toBuffer());
}

export async function runAvif({ quick }: { quick: boolean }): Promise<SuiteReport> {
  const codecs = createCodecs(await loadCodecModules());
  const rounds = quick ? 3 : 5;
  const rows: string[][] = [];
  const totals = { webp: [] as number[], avif: [] as number[], webpSsim: [] as number[], avifSsim: [] as number[] };
  const timeRatios: Record<number, number[]> = {};
  for (const img of loadCorpus()) {
    for (const size of SIZES) {
      const { data, info } = await sharp(img.bytes).rotate().resize(size, size, { fit: 'cover' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const pixels = toImageData(new Uint8ClampedArray(data), info.width, info.height);
      const reference = await gray(
        await sharp(data, { raw: { width: size, height: size, channels: 4 } })
          .png()
          .toBuffer(),
      );
      const times = { webp: [] as number[], avif: [] as number[] };
      const out: Record<'webp' | 'avif', Uint8Array> = { webp: new Uint8Array(), avif: new Uint8Array() };
      await codecs.encode('avif', pixels, Q); // first call instantiates the encoder
      for (let i = 0; i < rounds; i++) {
        for (const f of ['webp', 'avif'] as const) {
          const t = performance.now();
          out[f] = await codecs.encode(f, pixels, Q);
          times[f].push(performance.now() - t);
        }
      }
      const [sw, sa] = [ssim(await gray(out.webp), reference, size, size), ssim(await gray(out.avif), reference, size, size)];
      totals.webp.push(out.webp.length);
      totals.avif.push(out.avif.length);
      totals.webpSsim.push(sw);
      totals.avifSsim.push(sa);
      (timeRatios[size] ??= []).push(median(times.avif) / median(times.webp));
      rows.push([
        `${img.file} ${size}px`,
        kb(out.webp.length),
        kb(out.avif.length),
        ratio(out.avif.length, out.webp.length),
        fmt(sw, 4),
        fmt(sa, 4),
        ms(median(times.webp)),
        ms(median(times.avif)),
        ratio(median(times.avif), median(times.webp)),
      ]);
    }
  }
  const bytesRatio = sum(totals.avif) / sum(totals.webp);
  const mean = (xs: number[]) => sum(xs) / xs.length;
  return {
    id: 'avif',
    title: 'AVIF output',
    method:
      `Each corpus image resized by sharp to ${SIZES.join(', ')} px (cover), then encoded by ours as WebP q${Q} and AVIF q${Q} (libavif quality ${avifQuality(Q)}, speed ${AVIF_SPEED}, 4:2:0), median of ${rounds} interleaved encodes each; ` +
      'SSIM on luma against the lossless resize, both decoded by sharp.',
    headlines: [
      {
        metric: `AVIF bytes vs WebP q${Q} (SSIM ${fmt(mean(totals.avifSsim), 4)} vs ${fmt(mean(totals.webpSsim), 4)})`,
        ours: kb(sum(totals.avif)),
        reference: kb(sum(totals.webp)),
        referenceName: `WebP q${Q}, same codecs`,
        ratio: fmt(bytesRatio, 2) + '×',
        target: '≤ 0.8× at equal SSIM',
        met: bytesRatio <= 0.8 && mean(totals.avifSsim) >= mean(totals.webpSsim) - 0.002,
      },
      ...SIZES.map((s) => ({
        metric: `AVIF encode time at ${s} px, median over the corpus`,
        ours: ratio(median(timeRatios[s]!), 1),
        reference: '1×',
        referenceName: 'WebP encode of the same pixels',
        ratio: ratio(median(timeRatios[s]!), 1),
      })),
    ],
    tables: [{ headers: ['image', 'WebP', 'AVIF', 'bytes', 'SSIM WebP', 'SSIM AVIF', 'WebP encode', 'AVIF encode', 'time'], rows }],
    notes: [],
  };
}
