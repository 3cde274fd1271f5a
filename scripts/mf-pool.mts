import { readFileSync } from 'node:fs';
import { loadCodecModules } from '../src/hosts/node/load-wasm.js';
import { createRenderPool } from '../src/hosts/node/render-pool.js';
const size = Number(process.argv[2] ?? 1);
const pool = createRenderPool({ modules: await loadCodecModules(), size, timeoutMs: 60_000 });
await pool.warmUp();
const src = new Uint8Array(readFileSync('test/fixtures/faces/hopper-left.jpg'));
const v = (w: number) => ({ tenant: 'faces', id: 'x', width: w, height: w, fit: 'cover' as const, format: 'png' as const, quality: 100, version: '', negotiated: false, gravity: 'auto' as const });
for (const w of [128, 64, 256]) {
  const t0 = performance.now();
  const r = await pool.render(src, v(w));
  console.log(w, (performance.now() - t0).toFixed(0), 'ms', JSON.stringify(r.timings), JSON.stringify(r.focal));
}
console.log(pool.stats());
await pool.close();
