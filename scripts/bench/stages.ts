/**
 * `npm run bench:stages [-- png|webp|jpeg|pjpeg]`: where a first-touch render spends its time.
 * Renders each first-touch original (lib/originals.ts, the first-touch suite's set and
 * variants) once in this process, one at a time, and prints the renderer's decode, resize and
 * encode times per class of source next to sharp (one libvips thread, no cache) making the
 * same variant from the same bytes. A diagnostic, not a headline: `npm run bench` has those.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { sniffImage } from '../../src/core/image/sniff.js';
import { decodesReduced, decodeTraits } from '../../src/render/decode-peak.js';
import type { Variant } from '../../src/core/variant.js';
import { loadCodecModules } from '../../src/hosts/node/load-wasm.js';
import { createJsquashRenderer, variantDenominator } from '../../src/render/jsquash-renderer.js';
import { type Original, firstTouchOriginals } from './lib/originals.js';
import { wantsFor } from './first-touch.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('usage: npm run bench:stages [-- <class prefix: jpeg | pjpeg | png | webp>]\nPer-stage times of first-touch renders against sharp, by class of source.');
  process.exit(0);
}
sharp.concurrency(1);
sharp.cache(false);

const classOf = (o: Original): string => (o.format === 'jpeg' ? `${o.label.includes('progressive') ? 'pjpeg' : 'jpeg'} ${o.width * o.height > 4e6 ? '> 4 MP' : '≤ 4 MP'}` : o.format);

// The suite's own list: one cover variant per original; fmt=auto is WebP for the Accept it sends.
const wants = wantsFor(await firstTouchOriginals(100)).map((w) => ({ o: w.original, side: w.side, format: w.format === 'jpeg' ? 'jpeg' : 'webp' }) as const);
const renderer = createJsquashRenderer(await loadCodecModules());
await renderer.warmUp();
const only = process.argv[2];
interface Sums {
  n: number;
  decode: number;
  resize: number;
  encode: number;
  total: number;
  sharp: number;
  scales: Record<number, number>;
}
const sums = new Map<string, Sums>();
for (const { o, side, format } of wants) {
  const k = classOf(o);
  if (only && !k.startsWith(only)) continue;
  const bytes = new Uint8Array(await readFile(o.path));
  const variant = { width: side, height: side, fit: 'cover', format, quality: 75, gravity: 'center' } as Variant;
  const info = sniffImage(bytes)!;
  const d = decodesReduced({ ...info, ...decodeTraits(bytes, info) }) ? variantDenominator(info, variant) : 1;
  const t0 = performance.now();
  const { timings } = await renderer.render(bytes, variant);
  const t1 = performance.now();
  await sharp(bytes).rotate().resize(side, side, { fit: 'cover' })[format]({ quality: 75 }).toBuffer();
  const t2 = performance.now();
  const s = sums.get(k) ?? { n: 0, decode: 0, resize: 0, encode: 0, total: 0, sharp: 0, scales: {} };
  s.n++;
  s.decode += timings?.decode ?? 0;
  s.resize += timings?.resize ?? 0;
  s.encode += timings?.encode ?? 0;
  s.total += t1 - t0;
  s.sharp += t2 - t1;
  s.scales[d] = (s.scales[d] ?? 0) + 1;
  sums.set(k, s);
}
const ms = (n: number) => `${n.toFixed(1)} ms`;
console.log('class          n   decode    resize    encode    total     sharp     scales (1/d: count)');
let ours = 0;
let theirs = 0;
for (const [k, s] of [...sums].sort()) {
  ours += s.total;
  theirs += s.sharp;
  const scales = Object.entries(s.scales)
    .map(([d, c]) => `1/${d}: ${c}`)
    .join(', ');
  console.log(`${k.padEnd(13)} ${String(s.n).padStart(3)}  ${[s.decode, s.resize, s.encode, s.total, s.sharp].map((v) => ms(v / s.n).padStart(9)).join(' ')}  ${scales}`);
}
console.log(`all: ours ${ms(ours)}, sharp ${ms(theirs)} (one thread each): ${(ours / theirs).toFixed(2)}×`);
