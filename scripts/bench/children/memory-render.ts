/**
 * One render of one source in a fresh process, then the process's peak RSS:
 * `memory-render.ts <ours|sharp> <file> <size> <format>`; prints {"maxRssKb": …, "baseRssKb": …}.
 */
import { readFileSync } from 'node:fs';
import type { Format } from '../../../src/core/variant.js';

/**
 * Peak RSS of this process in KB. Linux's VmHWM belongs to this process image; getrusage's
 * maxRSS would also count the parent's peak (it survives fork + exec), so a bench that has
 * grown to 700 MB would report that for every child.
 */
function peakRssKb(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS;
}

const [kind, file, sizeArg, format] = process.argv.slice(2) as [string, string, string, Format];
const size = Number(sizeArg);
const bytes = new Uint8Array(readFileSync(file));
let body: Uint8Array;
let baseRssKb: number;
if (kind === 'sharp') {
  const sharp = (await import('sharp')).default;
  baseRssKb = peakRssKb();
  const p = sharp(bytes).rotate().resize(size, size, { fit: 'cover', kernel: 'lanczos3' });
  body = await (format === 'jpeg' ? p.jpeg({ quality: 80 }) : p.webp({ quality: 80 })).toBuffer();
} else if (kind === 'pool') {
  // What the Node host does (npm start): render threads, one per core.
  const { loadCodecModules } = await import('../../../src/hosts/node/load-wasm.js');
  const { createRenderPool } = await import('../../../src/hosts/node/render-pool.js');
  const pool = createRenderPool({ modules: await loadCodecModules() });
  await pool.warmUp();
  baseRssKb = peakRssKb();
  const variant = { tenant: 'demo', id: 'x', width: size, height: size, fit: 'cover' as const, format, quality: 80, version: '', negotiated: false };
  body = (await pool.render(bytes, variant)).body;
  const maxRssKb = peakRssKb();
  // The thread that decoded the source is replaced: its WebAssembly memory goes with it.
  await new Promise((r) => setTimeout(r, 1500));
  const afterRssKb = Math.round(process.memoryUsage().rss / 1024);
  await pool.close();
  process.stdout.write(JSON.stringify({ maxRssKb, baseRssKb, afterRssKb, bytes: body.byteLength }) + '\n');
  process.exit(0);
} else {
  const { loadCodecModules } = await import('../../../src/hosts/node/load-wasm.js');
  const { createJsquashRenderer } = await import('../../../src/render/jsquash-renderer.js');
  const { exposeGc } = await import('../../../src/hosts/node/expose-gc.js');
  // cwd is the repository (lib/child.ts): also right for a bundled copy of this file elsewhere.
  const renderer = createJsquashRenderer(await loadCodecModules(`${process.cwd()}/wasm/`), { collectGarbage: exposeGc() }); // as the Node host does
  await renderer.warmUp();
  baseRssKb = peakRssKb();
  const variant = { tenant: 'demo', id: 'x', width: size, height: size, fit: 'cover' as const, format, quality: 80, version: '', negotiated: false };
  body = (await renderer.render(bytes, variant)).body;
}
process.stdout.write(JSON.stringify({ maxRssKb: peakRssKb(), baseRssKb, bytes: body.byteLength }) + '\n');
