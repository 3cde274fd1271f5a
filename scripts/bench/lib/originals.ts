/**
 * Distinct originals for the first-touch suites, derived at bench time from the repository's
 * sample photos (samples/demo) with sharp: crops of varied aspect, resized over 1–16 MP (and up
 * to the 50 MP pixel limit for the large set), re-encoded as baseline and progressive JPEG at
 * several qualities and chroma subsamplings, PNG and WebP. Upscaled crops get a film-grain
 * overlay so they cost what a camera photo of that size costs to decode (a smooth upscale
 * compresses, and entropy-decodes, far faster than a photo). Deterministic from a seed; written
 * once to a directory under the OS temp dir named by a hash of the specs and the libvips
 * version, and reused by later runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { CORPUS_DIR } from './corpus.js';
import type { SourceFile, SourceFormat } from './servers.js';
import { rng } from './stats.js';

export interface Original extends SourceFile {
  width: number;
  height: number;
  /** File size. */
  size: number;
  /** How it was made, e.g. "JPEG q85 progressive 4:2:0". */
  label: string;
}

interface Encoding {
  format: SourceFormat;
  quality?: number;
  progressive?: boolean;
  chroma?: '4:2:0' | '4:4:4';
  lossless?: boolean;
  compressionLevel?: number;
}

interface Spec {
  id: string;
  source: string;
  crop: { left: number; top: number; width: number; height: number };
  width: number;
  height: number;
  grain: boolean;
  enc: Encoding;
}

// Bump when the way files are made changes, so cached sets are rebuilt.
const GENERATOR = 1;
/** The sample photos and how often each is the source: the two camera photos most. */
const SOURCES: Record<string, number> = { 'seeding.jpg': 4, 'free.jpg': 3, 'hopper.jpg': 1, 'astronaut.png': 1, 'plant.png': 1, 'mysha.png': 0.5 };
const ASPECTS = [4 / 3, 3 / 4, 3 / 2, 2 / 3, 16 / 9, 9 / 16, 1, 1];
/** Originals above this are refused by the service (limits.maxSourceBytes, 25 MB): stay under it. */
const MAX_FILE_BYTES = 24 * 1024 * 1024;

interface SourceInfo {
  file: string;
  width: number;
  height: number;
  alpha: boolean;
}

async function sourceInfos(): Promise<SourceInfo[]> {
  return Promise.all(
    Object.keys(SOURCES).map(async (file) => {
      const m = await sharp(join(CORPUS_DIR, file)).metadata();
      return { file, width: m.width!, height: m.height!, alpha: !!m.hasAlpha };
    }),
  );
}

function label(s: Spec): string {
  const e = s.enc;
  if (e.format === 'jpeg') return `JPEG q${e.quality} ${e.progressive ? 'progressive' : 'baseline'} ${e.chroma}`;
  if (e.format === 'webp') return e.lossless ? 'WebP lossless' : `WebP q${e.quality}`;
  return `PNG level ${e.compressionLevel}`;
}

/** A crop of `src` with this aspect covering `fraction` of the largest such crop, at a random place. */
function cropOf(src: SourceInfo, aspect: number, fraction: number, random: () => number): Spec['crop'] {
  let w = src.width;
  let h = Math.round(w / aspect);
  if (h > src.height) {
    h = src.height;
    w = Math.round(h * aspect);
  }
  const k = Math.sqrt(fraction);
  w = Math.max(16, Math.min(src.width, Math.round(w * k)));
  h = Math.max(16, Math.min(src.height, Math.round(h * k)));
  return { left: Math.floor(random() * (src.width - w + 1)), top: Math.floor(random() * (src.height - h + 1)), width: w, height: h };
}

function dims(mp: number, aspect: number): { width: number; height: number } {
  const width = Math.round(Math.sqrt(mp * 1e6 * aspect));
  return { width, height: Math.round(width / aspect) };
}

/** The first-touch mix: `count` specs, megapixels log-uniform over 1–16, 60% JPEG, 20% WebP, 20% PNG. */
function mixSpecs(sources: SourceInfo[], count: number, seed: number): Spec[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const total = Object.values(SOURCES).reduce((a, b) => a + b, 0);
  const pickSource = () => {
    let u = random() * total;
    for (const s of sources) if ((u -= SOURCES[s.file]!) <= 0) return s;
    return sources[0]!;
  };
  const specs: Spec[] = [];
  for (let i = 0; i < count; i++) {
    const f = random();
    const format: SourceFormat = f < 0.6 ? 'jpeg' : f < 0.8 ? 'webp' : 'png';
    let mp = Math.exp(random() * Math.log(16));
    // A PNG photo takes ~2–3 bytes a pixel: past ~5 MP it would exceed the 25 MB upload limit.
    if (format === 'png') mp = Math.min(mp, 4);
    const aspect = pick(ASPECTS);
    const src = pickSource();
    const crop = cropOf(src, aspect, 0.35 + 0.65 * random(), random);
    const { width, height } = dims(mp, aspect);
    let enc: Encoding;
    if (format === 'jpeg') {
      const quality = pick([60, 70, 75, 80, 85, 90, 95]);
      enc = { format, quality, progressive: random() < 0.4, chroma: quality >= 90 && random() < 0.5 ? '4:4:4' : '4:2:0' };
    } else if (format === 'webp') {
      enc = mp <= 4 && random() < 0.15 ? { format, lossless: true } : { format, quality: pick([70, 75, 80, 90]) };
    } else {
      enc = { format, compressionLevel: pick([6, 9]) };
    }
    specs.push({ id: `ft-${String(i).padStart(3, '0')}`, source: src.file, crop, width, height, grain: width > crop.width * 1.25 && !src.alpha, enc });
  }
  return specs;
}

/** Sources up to the pixel limit (50 MP): large JPEGs as phones and cameras make them, a large PNG and WebP. */
function largeSpecs(sources: SourceInfo[], seed: number): Spec[] {
  const random = rng(seed);
  const seeding = sources.find((s) => s.file === 'seeding.jpg')!;
  const free = sources.find((s) => s.file === 'free.jpg')!;
  const make = (id: string, src: SourceInfo, width: number, height: number, enc: Encoding): Spec => ({
    id,
    source: src.file,
    crop: cropOf(src, width / height, 0.8, random),
    width,
    height,
    grain: true,
    enc,
  });
  return [
    make('large-jpeg-16mp', seeding, 4656, 3492, { format: 'jpeg', quality: 92, progressive: false, chroma: '4:2:0' }),
    make('large-jpeg-20mp-prog', free, 5472, 3648, { format: 'jpeg', quality: 85, progressive: true, chroma: '4:2:0' }),
    make('large-jpeg-24mp-444', seeding, 6000, 4000, { format: 'jpeg', quality: 95, progressive: false, chroma: '4:4:4' }),
    make('large-jpeg-33mp-prog', seeding, 7008, 4672, { format: 'jpeg', quality: 80, progressive: true, chroma: '4:2:0' }),
    make('large-jpeg-50mp', free, 8160, 6120, { format: 'jpeg', quality: 85, progressive: false, chroma: '4:2:0' }),
    make('large-webp-48mp', seeding, 8000, 6000, { format: 'webp', quality: 80 }),
    // No grain: a PNG photo this size with grain would be past the 25 MB source limit.
    { ...make('large-png-12mp', free, 4000, 3000, { format: 'png', compressionLevel: 6 }), grain: false },
  ];
}

/** 256×256 of film grain around mid-grey, tiled over upscaled crops with an overlay blend. */
function grainTile(seed: number): Buffer {
  const random = rng(seed);
  const px = Buffer.alloc(256 * 256 * 3);
  for (let i = 0; i < px.length; i += 3) {
    // Gaussian (Box–Muller), σ 10 levels, luminance-heavy as sensor noise is.
    const g = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()) * 10;
    for (let c = 0; c < 3; c++) px[i + c] = Math.max(0, Math.min(255, Math.round(128 + g + (random() - 0.5) * 6)));
  }
  return px;
}

async function encode(spec: Spec, grain: Buffer, scale = 1): Promise<{ data: Buffer; width: number; height: number }> {
  const width = Math.round(spec.width * scale);
  const height = Math.round(spec.height * scale);
  let p = sharp(join(CORPUS_DIR, spec.source), { limitInputPixels: false }).extract(spec.crop).resize(width, height, { fit: 'fill', kernel: 'lanczos3' });
  if (spec.grain) p = p.composite([{ input: grain, raw: { width: 256, height: 256, channels: 3 }, tile: true, blend: 'overlay' }]);
  const e = spec.enc;
  if (e.format === 'jpeg') p = p.flatten({ background: '#ffffff' }).jpeg({ quality: e.quality, progressive: e.progressive, chromaSubsampling: e.chroma, mozjpeg: false });
  else if (e.format === 'webp') p = e.lossless ? p.webp({ lossless: true, effort: 4 }) : p.webp({ quality: e.quality, effort: 4 });
  else p = p.png({ compressionLevel: e.compressionLevel, adaptiveFiltering: true });
  return { data: await p.toBuffer(), width, height };
}

const EXT: Record<SourceFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp' };

async function materialise(name: string, specs: Spec[], log: (s: string) => void): Promise<Original[]> {
  const key = createHash('sha256')
    .update(JSON.stringify({ GENERATOR, vips: sharp.versions.vips, specs }))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), 'avatar-bench-originals', `${name}-${key}`);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    const cached = JSON.parse(readFileSync(manifest, 'utf8')) as Original[];
    if (await present(cached)) return cached;
  }
  const t0 = performance.now();
  log(`[bench] generating ${specs.length} ${name} originals into ${dir}…`);
  const work = `${dir}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const grain = grainTile(7);
  const out: Original[] = [];
  for (const spec of specs) {
    const file = `${spec.id}.${EXT[spec.enc.format]}`;
    let r = await encode(spec, grain);
    // Stay under the service's source-size limit: an over-limit file measures a refusal, not a render.
    for (let scale = 0.9; r.data.byteLength > MAX_FILE_BYTES; scale *= 0.9) r = await encode(spec, grain, scale);
    await writeFile(join(work, file), r.data);
    out.push({ id: spec.id, path: join(dir, file), format: spec.enc.format, width: r.width, height: r.height, size: r.data.byteLength, label: label(spec) });
  }
  await writeFile(join(work, 'manifest.json'), JSON.stringify(out, null, 1));
  await rm(dir, { recursive: true, force: true });
  await rename(work, dir);
  log(`[bench] generated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return out;
}

const stderr = (s: string) => void process.stderr.write(`${s}\n`);

/** The first-touch set; quick runs take its first `count`, so both share one cache. */
const MIX_SIZE = 100;

/** `count` (≤ 100) distinct originals of 1–16 MP for the first-touch mix. */
export async function firstTouchOriginals(count: number, seed = 13): Promise<Original[]> {
  if (count > MIX_SIZE) throw new Error(`firstTouchOriginals: at most ${MIX_SIZE}`);
  return (await materialise('first-touch', mixSpecs(await sourceInfos(), MIX_SIZE, seed), stderr)).slice(0, count);
}

/** Seven originals from 12 MP to the 50 MP pixel limit. */
export async function largeOriginals(seed = 17): Promise<Original[]> {
  return materialise('large', largeSpecs(await sourceInfos(), seed), stderr);
}

export const megapixels = (o: Original): number => (o.width * o.height) / 1e6;

/** Checks that every file is still where the manifest says (a temp cleaner may have run). */
export async function present(os: readonly Original[]): Promise<boolean> {
  for (const o of os) if (!(await stat(o.path).catch(() => null))) return false;
  return true;
}
