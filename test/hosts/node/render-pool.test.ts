import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_DEFAULTS } from '../../../src/core/config/service-config.js';
import { HttpError } from '../../../src/core/errors.js';
import { sha256Hex } from '../../../src/core/sha256.js';
import { sniffImage } from '../../../src/core/image/sniff.js';
import type { Variant } from '../../../src/core/variant.js';
import { loadCodecModules } from '../../../src/hosts/node/load-wasm.js';
import { createRenderPool, type RenderPool } from '../../../src/hosts/node/render-pool.js';
import { checkSource } from '../../../src/render/decode-source.js';

const sample = (name: string) => new Uint8Array(readFileSync(new URL(`../../../samples/demo/${name}`, import.meta.url)));
const variant = (w: number, format: Variant['format'] = 'webp'): Variant => ({ tenant: 'demo', id: 'x', width: w, height: w, fit: 'cover', format, quality: 75, version: '', negotiated: false });

describe('render pool (worker threads)', () => {
  let pool: RenderPool;
  beforeAll(async () => {
    // Recycle after anything over 0.2 MP so the test sees a thread replaced.
    pool = createRenderPool({ modules: await loadCodecModules(), size: 2, recycleAfterPixels: 200_000 });
    await pool.warmUp();
  });
  afterAll(() => pool.close());

  it('renders concurrently on its threads and returns real images', async () => {
    const src = sample('hopper.jpg');
    const out = await Promise.all([64, 128, 96].map((w) => pool.render(src, variant(w, w === 96 ? 'jpeg' : 'webp'))));
    expect(out.map((r) => sniffImage(r.body))).toMatchObject([
      { format: 'webp', width: 64, height: 64 },
      { format: 'webp', width: 128, height: 128 },
      { format: 'jpeg', width: 96, height: 96 },
    ]);
    expect(out[0]!.timings.decode).toBeGreaterThan(0);
  });

  it('decodes each source once: later variants of a small source come from its kept pixels', async () => {
    const src = sample('plant.png');
    // 200 px from 500×333 needs every pixel: decoded at full size, which serves any later variant.
    const a = await pool.render(src, variant(200));
    const b = await pool.render(src, { ...variant(100), fit: 'contain', format: 'png' });
    expect(a.timings.decode).toBeGreaterThan(0);
    expect(b.timings.decode).toBe(0);
    expect(sniffImage(b.body)).toMatchObject({ format: 'png', width: 100, height: 100, hasAlpha: true });
  });

  it('keys each source by its SHA-256 through the hash it was given (the Node host: node:crypto)', async () => {
    const keyed: string[] = [];
    const own = createRenderPool({
      modules: await loadCodecModules(),
      size: 1,
      sourceKey: async (bytes) => {
        const key = await sha256Hex(bytes);
        keyed.push(key);
        return key;
      },
    });
    try {
      const src = sample('hopper.jpg');
      const [a, b] = [await own.render(src, variant(64)), await own.render(src, variant(48))];
      expect([sniffImage(a.body)?.width, sniffImage(b.body)?.width]).toEqual([64, 48]);
      expect(keyed).toEqual([await sha256Hex(src), await sha256Hex(src)]);
      expect(b.timings.decode).toBe(0); // the second came from the master kept under that key
    } finally {
      await own.close();
    }
  });

  it("passes the caller's bytes by copy: the source stays usable", async () => {
    const src = sample('mysha.png');
    await pool.render(src, variant(32));
    expect(src.byteLength).toBeGreaterThan(0);
    expect(sniffImage(src)?.format).toBe('png');
  });

  it('moves a source handed over to the thread (no copy): the caller is left an empty view, the render is whole', async () => {
    const src = sample('seeding.jpg').slice(); // a buffer of its own, as a file or network read gives
    const r = await pool.render(src, variant(96, 'jpeg'), { handOver: true });
    expect(src.byteLength).toBe(0); // detached: the bytes went to the render thread
    expect(sniffImage(r.body)).toMatchObject({ format: 'jpeg', width: 96, height: 96 });
    const pixels = await sharp(r.body).raw().toBuffer({ resolveWithObject: true });
    expect(pixels.info).toMatchObject({ width: 96, height: 96 });
  });

  it("copies a handed-over view of a larger buffer: what it does not span is not the caller's to give", async () => {
    const file = sample('hopper.jpg');
    const whole = new Uint8Array(file.byteLength + 16);
    whole.set(file, 8);
    const view = whole.subarray(8, 8 + file.byteLength);
    const r = await pool.render(view, variant(48), { handOver: true });
    expect(sniffImage(r.body)).toMatchObject({ format: 'webp', width: 48, height: 48 });
    expect(whole.byteLength).toBe(file.byteLength + 16);
    expect(sniffImage(view)?.format).toBe('jpeg');
  });

  it('keeps HttpErrors (status, code) across the thread boundary', async () => {
    const err = await pool.render(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]), variant(32)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBeGreaterThanOrEqual(400);
    expect((err as HttpError).status).toBeLessThan(500);
  });

  it('replaces a thread after a large source and keeps serving', async () => {
    const before = pool.stats().recycled;
    await pool.render(sample('astronaut.png'), variant(300)); // not seen yet: a real decode, at full size (512×512)
    expect(pool.stats().recycled).toBeGreaterThan(before);
    const r = await pool.render(sample('hopper.jpg'), variant(40));
    expect(sniffImage(r.body)).toMatchObject({ width: 40, height: 40 });
    expect(pool.stats().threads).toBe(2);
  });

  it('refuses work once closed', async () => {
    const p = createRenderPool({ modules: await loadCodecModules(), size: 1 });
    await p.close();
    await expect(p.render(sample('hopper.jpg'), variant(32))).rejects.toThrow(/closed/);
  });
});

describe('render pool masters', () => {
  it('decodes a large source once and renders its next variants from the kept master', async () => {
    const pool = createRenderPool({ modules: await loadCodecModules(), size: 2 });
    try {
      await pool.warmUp();
      const big = sample('free.jpg'); // 2880×2160: large enough for a master
      const first = await Promise.all([64, 128].map((w) => pool.render(big, variant(w))));
      expect(pool.stats()).toMatchObject({ masters: 1 });
      const next = await pool.render(big, variant(96, 'jpeg'));
      expect(pool.stats().fromMaster).toBeGreaterThanOrEqual(2); // the waiting twin and the later one
      expect(next.timings.decode).toBe(0);
      expect(sniffImage(next.body)).toMatchObject({ format: 'jpeg', width: 96, height: 96 });
      expect(first.map((r) => sniffImage(r.body)?.width)).toEqual([64, 128]);
      // A box the master cannot serve with 2× margin (or not cover) goes back to the original.
      const wide = await pool.render(big, { ...variant(0), width: 1024, height: 0, fit: 'inside' });
      expect(wide.timings.decode).toBeGreaterThan(0);
      expect(sniffImage(wide.body)).toMatchObject({ width: 1024, height: 768 });
    } finally {
      await pool.close();
    }
  });

  it("first touch decodes at the variant's scale; a source asked for more is decoded once more, for a full master", async () => {
    const pool = createRenderPool({ modules: await loadCodecModules(), size: 1 });
    try {
      await pool.warmUp();
      const big = sample('free.jpg'); // 2880×2160
      const first = await pool.render(big, variant(64)); // decoded at 1/8: 360×270, serves up to 135 px
      expect(first.timings.decode).toBeGreaterThan(0);
      expect((await pool.render(big, variant(128))).timings.decode).toBe(0);
      const bigger = await pool.render(big, variant(256)); // falls short: decoded at the master's 1/2
      expect(bigger.timings.decode).toBeGreaterThan(0);
      expect(pool.stats().masterBytes).toBe(1440 * 1080 * 4);
      const largest = await pool.render(big, variant(512));
      expect(largest.timings.decode).toBe(0);
      expect(sniffImage(largest.body)).toMatchObject({ width: 512, height: 512 });
      expect(pool.stats()).toMatchObject({ masters: 1, fromMaster: 2 });
    } finally {
      await pool.close();
    }
  });

  it('admits large decodes by the memory budget: one at a time when only one fits, and lets small jobs overtake', async () => {
    // 1024 px wide of 2880×2160 needs every pixel: a full-size decode, ~118 MB by the estimate
    // (render-memory.ts), and a 64 px hopper ~22 MB: one of each fits 150 MB, two wide ones do not.
    const wide: Variant = { ...variant(0), width: 1024, height: 0, fit: 'inside' };
    const free = sample('free.jpg');
    // Another source with the same pixels (bytes after the end of the image are ignored).
    const other = new Uint8Array([...free, 0, 1, 2, 3]);
    const pool = createRenderPool({ modules: await loadCodecModules(), size: 2, recycleAfterPixels: 1_000_000, memoryBytes: 150 * 1024 * 1024, masterBytes: 0 });
    try {
      await pool.warmUp();
      const done: string[] = [];
      const job = (name: string, src: Uint8Array, v: Variant) => pool.render(src, v).then(() => void done.push(name));
      await Promise.all([job('free', free, wide), job('other', other, wide), job('hopper', sample('hopper.jpg'), variant(64))]);
      expect(pool.stats().largeAtOnce).toBe(1);
      expect(pool.stats().peakInflightBytes).toBeLessThanOrEqual(150 * 1024 * 1024);
      expect(done.indexOf('hopper')).toBeLessThan(done.indexOf('other'));
    } finally {
      await pool.close();
    }
  });

  it('runs large decodes in parallel when the budget holds them', async () => {
    const wide: Variant = { ...variant(0), width: 1024, height: 0, fit: 'inside' };
    const free = sample('free.jpg');
    const other = new Uint8Array([...free, 0, 1, 2, 3]);
    const pool = createRenderPool({ modules: await loadCodecModules(), size: 2, recycleAfterPixels: 1_000_000, memoryBytes: 400 * 1024 * 1024, masterBytes: 0 });
    try {
      await pool.warmUp();
      const out = await Promise.all([pool.render(free, wide), pool.render(other, wide)]);
      expect(out.map((r) => [r.width, r.height])).toEqual([
        [1024, 768],
        [1024, 768],
      ]);
      expect(pool.stats().largeAtOnce).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('refuses at once (422 SOURCE_TOO_LARGE) a source whose estimate exceeds the whole budget', async () => {
    const pool = createRenderPool({ modules: await loadCodecModules(), size: 1, memoryBytes: 32 * 1024 * 1024 });
    try {
      await pool.warmUp();
      const wide: Variant = { ...variant(0), width: 1024, height: 0, fit: 'inside' };
      const err = await pool.render(sample('free.jpg'), wide).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect([(err as HttpError).status, (err as HttpError).code]).toEqual([422, 'SOURCE_TOO_LARGE']);
      // The source fits; this size of it does not: the message says so.
      expect((err as HttpError).message).toMatch(
        /^source image is 2880×2160 \(6220800 pixels\); rendering it at 1024×auto needs about \d+ MB of memory, more than this renderer's 32 MB budget; a smaller size may fit$/,
      );
      expect(pool.stats().running + pool.stats().queued).toBe(0);
      // The same source at a scale that fits the budget renders.
      const small = await pool.render(sample('free.jpg'), variant(64));
      expect(sniffImage(small.body)).toMatchObject({ width: 64, height: 64 });
    } finally {
      await pool.close();
    }
  });

  it("refuses a PNG too large for its budget with the message the render thread's own check gives (one rule, render-memory.ts)", async () => {
    const memoryBytes = 48 * 1024 * 1024;
    // 2000×2000 interlaced decodes at full size: ~32 MB of pixels and their copy, past 48 MB with the fixed costs.
    const png = new Uint8Array(
      await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#2878c8' } })
        .png({ progressive: true })
        .toBuffer(),
    );
    const inThread = (() => {
      try {
        return checkSource(png, { ...LIMIT_DEFAULTS, renderMemoryBytes: memoryBytes });
      } catch (e) {
        return e;
      }
    })();
    const pool = createRenderPool({ modules: await loadCodecModules(), size: 1, memoryBytes });
    try {
      await pool.warmUp();
      const err = await pool.render(png, variant(64)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect([(err as HttpError).status, (err as HttpError).code]).toEqual([422, 'SOURCE_TOO_LARGE']);
      expect((err as HttpError).message).toMatch(
        /^source image is 2000×2000 \(4000000 pixels\); PNG sources decode at full size and may have at most \d+ pixels in this renderer's 48 MB memory budget$/,
      );
      expect((err as HttpError).message).toBe((inThread as HttpError).message);
      expect(pool.stats().running + pool.stats().queued).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
