/**
 * The resize of images with alpha (wasm/jpeg-scaled/src/alpha_lanczos.rs: alpha-weighted box,
 * then lanczos3 on f32 premultiplied pixels, four lanes at a time) against the same arithmetic
 * written plainly here in f64: every visible pixel within one level, and a pixel whose alpha
 * rounds to 0 comes out 0,0,0,0.
 */
import { describe, expect, it } from 'vitest';
import { toImageData } from '../../src/render/image-data.js';
import { alphaResizeBytes } from '../../src/render/render-memory.js';
import type { DecoderExports } from '../../src/render/wasm-decoder.js';
import { codecModules, codecs } from './helpers.js';

function noise(width: number, height: number, seed: number): ImageData {
  const d = new Uint8ClampedArray(width * height * 4);
  let s = seed;
  for (let i = 0; i < d.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    d[i] = s >>> 24;
  }
  // A fully transparent band and an opaque one, so both ends of alpha are covered.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x < width / 5) d[(y * width + x) * 4 + 3] = 0;
      else if (x > (width * 4) / 5) d[(y * width + x) * 4 + 3] = 255;
    }
  }
  return toImageData(d, width, height);
}

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
const lanczos3 = (x: number) => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0);

/** Resamples `n` premultiplied pixels (4 numbers each, `stride` apart) to `m`, lanczos3 widened by the scale. */
function resample(get: (i: number) => number[], n: number, m: number): number[][] {
  const scale = n / m;
  const support = 3 * Math.max(scale, 1);
  const out: number[][] = [];
  for (let o = 0; o < m; o++) {
    const centre = (o + 0.5) * scale;
    let sum = 0;
    const acc = [0, 0, 0, 0];
    for (let i = Math.max(0, Math.floor(centre - support)); i < Math.min(n, Math.ceil(centre + support)); i++) {
      const w = lanczos3((i + 0.5 - centre) / Math.max(scale, 1));
      sum += w;
      get(i).forEach((v, c) => (acc[c]! += w * v));
    }
    out.push(acc.map((v) => v / sum));
  }
  return out;
}

/** The reference: premultiply, box by `k` (region trimmed symmetrically), lanczos3 rows then columns, divide. */
function reference(img: ImageData, k: number, tw: number, th: number): Uint8ClampedArray {
  const [w, h] = [Math.floor(img.width / k), Math.floor(img.height / k)];
  const [x0, y0] = [Math.floor((img.width - w * k) / 2), Math.floor((img.height - h * k) / 2)];
  const shrunk: number[][] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = [0, 0, 0, 0];
      for (let dy = 0; dy < k; dy++) {
        for (let dx = 0; dx < k; dx++) {
          const i = ((y0 + y * k + dy) * img.width + x0 + x * k + dx) * 4;
          const a = img.data[i + 3] as number;
          for (let c = 0; c < 3; c++) p[c]! += ((img.data[i + c] as number) * a) / 255;
          p[3]! += a;
        }
      }
      shrunk.push(p.map((v) => v / (k * k)));
    }
  }
  const rows: number[][][] = [];
  for (let y = 0; y < h; y++) rows.push(resample((x) => shrunk[y * w + x]!, w, tw));
  const out = new Uint8ClampedArray(tw * th * 4);
  for (let x = 0; x < tw; x++) {
    resample((y) => rows[y]![x]!, h, th).forEach(([r, g, b, a], y) => {
      const at = (y * tw + x) * 4;
      if (Math.round(a!) <= 0) return;
      out.set([(r! * 255) / a!, (g! * 255) / a!, (b! * 255) / a!, a!], at);
    });
  }
  return out;
}

describe('the resize of images with alpha', () => {
  for (const [width, height, factor, tw, th] of [
    [97, 83, 1, 31, 29],
    [97, 83, 3, 13, 11],
    [120, 64, 2, 60, 32], // the box alone makes the target's size
    [40, 40, 1, 57, 57], // upscale
  ] as const) {
    it(`${width}×${height}, box ${factor}, to ${tw}×${th}: the f64 reference's pixels within one level`, async () => {
      const c = await codecs();
      const img = noise(width, height, width * height + factor);
      const out = await c.resize(img, { x: 0, y: 0, width, height }, factor, tw, th, true);
      expect([out.width, out.height]).toEqual([tw, th]);
      const want = reference(img, factor, tw, th);
      let visible = 0;
      for (let i = 0; i < want.length; i += 4) {
        const alpha = out.data[i + 3] as number;
        expect(Math.abs(alpha - (want[i + 3] as number)), `alpha at pixel ${i / 4}`).toBeLessThanOrEqual(1);
        if (alpha === 0) expect(Array.from(out.data.subarray(i, i + 4)), `pixel ${i / 4}`).toEqual([0, 0, 0, 0]);
        // Below 32 a colour is its premultiplied value times 255/alpha: one step there is several levels.
        if (alpha < 32 || (want[i + 3] as number) < 32) continue;
        visible++;
        for (let ch = 0; ch < 3; ch++) expect(Math.abs((out.data[i + ch] as number) - (want[i + ch] as number)), `channel ${ch} at pixel ${i / 4}`).toBeLessThanOrEqual(1);
      }
      expect(visible).toBeGreaterThan((tw * th) / 3);
    });
  }

  it('holds no more memory than render-memory.ts counts for it: input, output and alphaResizeBytes', async () => {
    const module = (await codecModules()).jpegScaled;
    // [input width, height, box factor, target width, height]: a crop read whole, box-shrunk ones, an upscale.
    for (const [w, h, factor, tw, th] of [
      [1600, 1600, 1, 512, 512],
      [4000, 3000, 2, 512, 512],
      [3073, 4610, 4, 256, 256],
      [300, 300, 1, 512, 512],
    ] as const) {
      const ex = new WebAssembly.Instance(module, {}).exports as unknown as DecoderExports;
      const len = w * h * 4;
      const at = ex.input_alloc(len);
      new Uint8Array(ex.memory.buffer, at, len).fill(128);
      const withInput = ex.memory.buffer.byteLength;
      expect(ex.fit_alpha_rgba(len, w, h, factor, tw, th)).toBe(0);
      const grown = ex.memory.buffer.byteLength - withInput;
      // WebAssembly memory grows by 64 KiB pages, and the allocator keeps a little besides.
      const slack = 128 * 1024;
      expect(grown, `${w}×${h} /${factor} → ${tw}×${th}`).toBeLessThanOrEqual(tw * th * 4 + alphaResizeBytes(Math.floor(w / factor), Math.floor(h / factor), tw, th) + slack);
    }
  });
});
