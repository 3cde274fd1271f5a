/**
 * Masters evicted by the scheduler must leave memory without waiting for a collection nothing
 * triggers. They were SharedArrayBuffers once: V8 does not count those towards its collection
 * pressure, so every evicted master stayed resident (first-touch load, 2 threads: peak RSS
 * 768 MB against 458 MB with plain buffers moved from the thread, same run).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Variant } from '../../../src/core/variant.js';
import { loadCodecModules } from '../../../src/hosts/node/load-wasm.js';
import { createRenderPool } from '../../../src/hosts/node/render-pool.js';

const MB = 1024 * 1024;
const variant = (w: number): Variant => ({ tenant: 'demo', id: 'x', width: w, height: w, fit: 'cover', format: 'webp', quality: 75, version: '', negotiated: false });

/** A 2560×2048 photo-like JPEG, different bytes per seed (so a different source each time). */
async function photo(seed: number): Promise<Uint8Array> {
  const w = 2560;
  const h = 2048;
  const px = Buffer.alloc(w * h * 3);
  let s = seed * 7919 + 1;
  for (let i = 0; i < px.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    px[i] = ((i % (w * 3)) >> 4) + (s >>> 28);
  }
  return new Uint8Array(
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 80 })
      .toBuffer(),
  );
}

describe('render pool master memory', () => {
  it('evicted masters do not stay resident: 40 distinct 5 MB masters through an 8 MB cap', async () => {
    const sources = await Promise.all(Array.from({ length: 40 }, (_, i) => photo(i)));
    const pool = createRenderPool({ modules: await loadCodecModules(), size: 1, masterBytes: 8 * MB, recycleAfterPixels: Infinity });
    try {
      await pool.warmUp();
      await pool.render(sources[0]!, variant(512)); // the thread's own memory grown once
      let peak = 0;
      const base = process.memoryUsage().rss;
      for (const src of sources.slice(1)) {
        await pool.render(src, variant(512)); // 1/2 scale: a 1280×1024 master (5.2 MB), offered and kept
        peak = Math.max(peak, process.memoryUsage().rss - base);
      }
      const stats = pool.stats();
      expect(stats.masters).toBeGreaterThan(0);
      expect(stats.masterBytes).toBeLessThanOrEqual(8 * MB);
      // 39 × 5.2 MB = 205 MB of masters went through the store; shared ones all stayed
      // (210 MB growth). Plain ones: 69 MB, the thread's own memory mostly.
      expect(peak).toBeLessThan(110 * MB);
    } finally {
      await pool.close();
    }
  }, 180_000);
});
