/**
 * Render suite: every corpus image → 64/128/256/512 px (cover) → WebP and JPEG q80, ours
 * (the jsquash renderer the Node host uses) against sharp (libvips) with the same settings in
 * the same process, interleaved so machine noise hits both alike. Per stage and end to end,
 * with output bytes and SSIM against a lossless reference (all outputs decoded by sharp).
 */
import sharp, { type OutputInfo } from 'sharp';
import { sniffImage } from '../../src/core/image/sniff.js';
import type { Format, Variant } from '../../src/core/variant.js';
import { loadCodecModules } from '../../src/hosts/node/load-wasm.js';
import { planGeometry } from '../../src/render/geometry.js';
import { createJsquashRenderer } from '../../src/render/jsquash-renderer.js';
import { MASTER_DEFAULTS, masterServes } from '../../src/render/master.js';
import { loadCorpus } from './lib/corpus.js';
import type { SuiteReport } from './lib/report.js';
import { ssim } from './lib/ssim.js';
import { fmt, geomean, kb, median, ms, ratio, sum } from './lib/stats.js';

export interface RenderOptions {
  quick: boolean;
}

const SIZES = [64, 128, 256, 512];
const FORMATS: Format[] = ['webp', 'jpeg'];
const QUALITY = 80;

interface Case {
  image: string;
  size: number;
  format: Format;
  ours: number;
  sharp: number;
  oursStages: { decode: number; resize: number; encode: number };
  oursBytes: number;
  sharpBytes: number;
  oursSsim: number;
  sharpSsim: number;
  /** Rendered from the image's kept master (render pool path), when the master serves this case. */
  master?: { ms: number; bytes: number; ssim: number };
}

const time = async <T>(f: () => Promise<T>): Promise<[number, T]> => {
  const t = performance.now();
  const r = await f();
  return [performance.now() - t, r];
};

function sharpRender(bytes: Uint8Array, size: number, format: Format, alpha: boolean): Promise<Buffer> {
  let p = sharp(bytes).rotate().resize(size, size, { fit: 'cover', kernel: 'lanczos3' });
  // JPEG has no alpha: both sides composite onto white.
  if (format === 'jpeg') p = (alpha ? p.flatten({ background: '#ffffff' }) : p).jpeg({ quality: QUALITY });
  else p = p.webp({ quality: QUALITY });
  return p.toBuffer();
}

/** Grayscale pixels of an encoded image, flattened onto white, decoded by sharp for both sides. */
async function gray(encoded: Uint8Array | Buffer): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(encoded).flatten({ background: '#ffffff' }).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export async function runRender(opts: RenderOptions): Promise<SuiteReport> {
  // One libvips thread: the jsquash renderer is single-threaded per render, so this compares
  // the work per render; using both cores is the peer suite's business.
  sharp.concurrency(1);
  sharp.cache(false);
  const reps = opts.quick ? 3 : 7;
  const renderer = createJsquashRenderer(await loadCodecModules());
  await renderer.warmUp();
  const corpus = loadCorpus();
  const cases: Case[] = [];
  const sharpStages = new Map<string, { decode: number; resize: number; encode: number }>();

  for (const img of corpus) {
    const info = sniffImage(img.bytes);
    const alpha = info?.hasAlpha ?? false;
    // sharp per stage: full decode to raw, resize from raw, encode from raw.
    const decodeTimes: number[] = [];
    let raw: { data: Buffer; info: OutputInfo } | undefined;
    for (let r = 0; r < reps; r++) {
      const [t, out] = await time(() => sharp(img.bytes).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true }));
      decodeTimes.push(t);
      raw = out;
    }
    const rawInput = { raw: { width: raw!.info.width, height: raw!.info.height, channels: 4 as const } };
    const stage = { decode: median(decodeTimes) * SIZES.length * FORMATS.length, resize: 0, encode: 0 };
    for (const size of SIZES) {
      const rs: number[] = [];
      let resized: { data: Buffer; info: OutputInfo } | undefined;
      for (let r = 0; r < reps; r++) {
        const [t, out] = await time(() => sharp(raw!.data, rawInput).resize(size, size, { fit: 'cover', kernel: 'lanczos3' }).raw().toBuffer({ resolveWithObject: true }));
        rs.push(t);
        resized = out;
      }
      stage.resize += median(rs) * FORMATS.length;
      const small = { raw: { width: resized!.info.width, height: resized!.info.height, channels: 4 as const } };
      for (const format of FORMATS) {
        const es: number[] = [];
        for (let r = 0; r < reps; r++) {
          es.push(
            (
              await time(() => {
                const p = sharp(resized!.data, small);
                return (format === 'jpeg' ? p.flatten({ background: '#ffffff' }).jpeg({ quality: QUALITY }) : p.webp({ quality: QUALITY })).toBuffer();
              })
            )[0],
          );
        }
        stage.encode += median(es);
      }
    }
    sharpStages.set(img.id, stage);
    // The Node host's render pool keeps each source's master (render/master.ts): shrunk when large.
    const kept = (await renderer.renderKeepingMaster(img.bytes, { tenant: 'demo', id: img.id, width: 64, height: 64, fit: 'cover', format: 'webp', quality: QUALITY, version: '', negotiated: false }))
      .master;

    // Each output is scored against a lossless lanczos3 render of its own cover crop. The two
    // renderers crop differently by a fraction of a pixel (ours: a whole-pixel centred crop, then
    // resize; libvips: resize, then crop the resized image), and on a detailed non-square source
    // (plant) that phase shift alone costs 3–5 levels and ~0.04 SSIM, whoever renders: scoring
    // both against sharp's geometry measured the crop, not the resampling or the encoder.
    const meta = await sharp(img.bytes).metadata();
    const shown = meta.autoOrient ?? { width: meta.width!, height: meta.height! };
    for (const size of SIZES) {
      const reference = await gray(await sharp(img.bytes).rotate().resize(size, size, { fit: 'cover', kernel: 'lanczos3' }).png().toBuffer());
      const ourCrop = planGeometry(shown, { width: size, height: size, fit: 'cover' }).crop;
      const ourReference = await gray(
        await sharp(img.bytes)
          .rotate()
          .extract({ left: ourCrop.x, top: ourCrop.y, width: ourCrop.width, height: ourCrop.height })
          .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
          .png()
          .toBuffer(),
      );
      for (const format of FORMATS) {
        const variant: Variant = { tenant: 'demo', id: img.id, width: size, height: size, fit: 'cover', format, quality: QUALITY, version: '', negotiated: false };
        const ot: number[] = [];
        const st: number[] = [];
        const mt: number[] = [];
        const useMaster = kept && masterServes(kept, variant) ? kept : undefined;
        let masterOut: Uint8Array | undefined;
        const stages: { decode: number; resize: number; encode: number }[] = [];
        let oursOut: Uint8Array | undefined;
        let sharpOut: Buffer | undefined;
        // Interleaved, one untimed round first (JIT, caches).
        for (let r = -1; r < reps; r++) {
          const [to, o] = await time(() => renderer.render(img.bytes, variant));
          const [ts, s] = await time(() => sharpRender(img.bytes, size, format, alpha));
          const [tm, m] = useMaster ? await time(() => renderer.renderFromMaster(useMaster, variant)) : [NaN, undefined];
          if (r < 0) continue;
          mt.push(tm);
          masterOut = m?.body;
          ot.push(to);
          st.push(ts);
          stages.push(o.timings);
          oursOut = o.body;
          sharpOut = s;
        }
        const go = await gray(oursOut!);
        const gs = await gray(sharpOut!);
        const gm = masterOut ? await gray(masterOut) : undefined;
        cases.push({
          image: img.id,
          size,
          format,
          ours: median(ot),
          sharp: median(st),
          oursStages: {
            decode: median(stages.map((s) => s.decode)),
            resize: median(stages.map((s) => s.resize)),
            encode: median(stages.map((s) => s.encode)),
          },
          oursBytes: oursOut!.byteLength,
          sharpBytes: sharpOut!.byteLength,
          oursSsim: ssim(go.data, ourReference.data, size, size),
          sharpSsim: ssim(gs.data, reference.data, size, size),
          // A shrunk master's crop is planned on its own pixels: within one master pixel of ours.
          master: gm && masterOut ? { ms: median(mt), bytes: masterOut.byteLength, ssim: ssim(gm.data, ourReference.data, size, size) } : undefined,
        });
      }
    }
  }

  const perCase = cases.map((c) => c.ours / c.sharp);
  // As the Node host renders once a large source's master is kept: from the master when it serves.
  const served = (c: Case) => c.master?.ms ?? c.ours;
  const gService = geomean(cases.map((c) => served(c) / c.sharp));
  const gServiceImage = geomean(corpus.map((img) => cases.filter((c) => c.image === img.id)).map((cs) => sum(cs.map(served)) / sum(cs.map((c) => c.sharp))));
  const masterCases = cases.filter((c) => c.master);
  const byImage = corpus.map((img) => cases.filter((c) => c.image === img.id));
  const perImage = byImage.map((cs) => sum(cs.map((c) => c.ours)) / sum(cs.map((c) => c.sharp)));
  const gCase = geomean(perCase);
  const gImage = geomean(perImage);
  const bytesRatio = geomean(cases.map((c) => c.oursBytes / c.sharpBytes));
  const ssimOurs = median(cases.map((c) => c.oursSsim));
  const ssimSharp = median(cases.map((c) => c.sharpSsim));
  const vips = sharp.versions.vips;

  const stageRows = byImage.map((cs, i) => {
    const img = corpus[i]!;
    const s = sharpStages.get(img.id)!;
    const o = { decode: sum(cs.map((c) => c.oursStages.decode)), resize: sum(cs.map((c) => c.oursStages.resize)), encode: sum(cs.map((c) => c.oursStages.encode)) };
    const info = sniffImage(img.bytes);
    const cell = (a: number, b: number) => `${ms(a)} / ${ms(b)} = ${ratio(a, b)}`;
    return [
      `${img.id} (${info?.width}×${info?.height} ${info?.format})`,
      cell(o.decode, s.decode),
      cell(o.resize, s.resize),
      cell(o.encode, s.encode),
      cell(sum(cs.map((c) => c.ours)), sum(cs.map((c) => c.sharp))),
      ratio(sum(cs.map((c) => c.oursBytes)), sum(cs.map((c) => c.sharpBytes))),
      `${fmt(median(cs.map((c) => c.oursSsim)), 4)} / ${fmt(median(cs.map((c) => c.sharpSsim)), 4)}`,
    ];
  });

  return {
    id: 'render',
    title: 'Render: jsquash renderer vs sharp',
    method:
      `Each corpus image → ${SIZES.join('/')} px cover → WebP and JPEG q${QUALITY}, rendered from the original bytes as the service does ` +
      `(one variant per render, decode included). Ours: \`createJsquashRenderer\` in this process. Reference: sharp ${sharp.versions.sharp} / libvips ${vips} ` +
      `(\`rotate().resize(w, w, {fit: 'cover', kernel: 'lanczos3'})\`, same quality), one libvips thread, no operation cache. ` +
      `Median of ${reps} interleaved runs per case after one untimed run. SSIM: grayscale, both outputs decoded by sharp (flattened onto white), each against sharp's lossless lanczos3 resize of the cover crop that renderer uses (ours: \`extract(our crop).resize(w, w)\`; sharp: its own cover), so a sub-pixel difference in crop position is not scored as quality.`,
    headlines: [
      {
        metric: 'render from the original, geomean over all cases',
        ours: fmt(gCase, 2) + '×',
        reference: '1.00×',
        referenceName: 'sharp',
        ratio: fmt(gCase, 2) + '×',
        target: '≤ 1.5×',
        met: gCase <= 1.5,
      },
      {
        metric: 'render from the original, geomean over images (sum of 8 variants each)',
        ours: fmt(gImage, 2) + '×',
        reference: '1.00×',
        referenceName: 'sharp',
        ratio: fmt(gImage, 2) + '×',
        target: '≤ 1.5×',
        met: gImage <= 1.5,
      },
      {
        metric: 'render with kept masters (Node host steady state), geomean over all cases',
        ours: fmt(gService, 2) + '×',
        reference: '1.00×',
        referenceName: 'sharp from the original',
        ratio: fmt(gService, 2) + '×',
        target: '≤ 1.5×',
        met: gService <= 1.5,
      },
      {
        metric: 'render with kept masters, geomean over images',
        ours: fmt(gServiceImage, 2) + '×',
        reference: '1.00×',
        referenceName: 'sharp from the original',
        ratio: fmt(gServiceImage, 2) + '×',
        target: '≤ 1.5×',
        met: gServiceImage <= 1.5,
      },
      { metric: 'output bytes, geomean', ours: fmt(bytesRatio, 2) + '×', reference: '1.00×', referenceName: 'sharp', ratio: fmt(bytesRatio, 2) + '×' },
      { metric: 'SSIM vs lossless reference, median', ours: fmt(ssimOurs, 4), reference: fmt(ssimSharp, 4), referenceName: 'sharp', ratio: fmt(ssimOurs / ssimSharp, 3) + '×' },
    ],
    tables: [
      {
        caption:
          "Per image, summed over the 8 variants: ours / sharp = ratio. sharp's stages are measured separately (full decode to raw, resize from raw, encode from raw); its end to end is shorter than their sum because libvips shrinks JPEGs while decoding. Ours are the stages of the end-to-end render itself (a JPEG decoded at the reduced scale it needs).",
        headers: ['image', 'decode', 'resize', 'encode', 'end to end', 'bytes', 'SSIM ours / sharp'],
        rows: stageRows,
      },
      {
        caption: `From a kept master (the render threads' steady state): the first render of a source decodes it and keeps its master, later ones start from it. Sources of ${MASTER_DEFAULTS.minPixels / 1e6} MP and more are kept box-shrunk and serve cover boxes with a 2× margin (other cases go back to the original); smaller ones are kept as decoded and serve everything with identical output.`,
        headers: ['case', 'from master', 'from original', 'sharp', 'master / sharp', 'SSIM master / original / sharp'],
        rows: masterCases.map((c) => [
          `${c.image} ${c.size} ${c.format}`,
          ms(c.master!.ms),
          ms(c.ours),
          ms(c.sharp),
          ratio(c.master!.ms, c.sharp),
          `${fmt(c.master!.ssim, 4)} / ${fmt(c.oursSsim, 4)} / ${fmt(c.sharpSsim, 4)}`,
        ]),
      },
      {
        caption: 'Every case, end to end from the original.',
        headers: ['case', 'ours', 'sharp', 'ratio', 'bytes ours / sharp', 'SSIM ours / sharp'],
        rows: cases.map((c) => [
          `${c.image} ${c.size} ${c.format}`,
          ms(c.ours),
          ms(c.sharp),
          ratio(c.ours, c.sharp),
          `${kb(c.oursBytes)} / ${kb(c.sharpBytes)}`,
          `${fmt(c.oursSsim, 4)} / ${fmt(c.sharpSsim, 4)}`,
        ]),
      },
    ],
    notes: [
      "Both sides shrink JPEGs while decoding (1/2–1/8 scale in the DCT domain). sharp goes down to about the target size (its default fastShrinkOnLoad); ours keeps the used region at least 2× the target before lanczos3, the margin its box pre-shrink keeps (render/jpeg-scaled.ts, the decoder in wasm/jpeg_scaled.wasm), and at 1/8 skips a progressive file's AC scans. The render threads also decode each source once and keep its master (render/master.ts), which is what the steady-state rows measure.",
      "JPEG encode is slower than sharp's, most at 512 px: jsquash's mozjpeg always runs trellis quantisation (no option turns it off), for slightly smaller files at the same q.",
      "Ours and sharp's outputs are not compared with each other: on non-square sources the cover crops differ by a fraction of a source pixel (ours is a whole-pixel centred crop; libvips crops after resizing), which on a detailed image (plant) alone moves pixels by 3–5 levels, as much as sharp's own render of our crop differs from its cover render.",
      "Alpha is not what separates plant from the rest: on the same crop, our premultiplied resize matched libvips' within 0.6 of 255 on opaque pixels with squoosh's resizer, which truncates (about 0.5 darker on average; the f32 lanczos3 that replaced it rounds), and within 1 level at soft edges; its remaining gap is at 512 px, an upscale, where libvips differs for every source (mysha too), alpha or not.",
    ],
  };
}
