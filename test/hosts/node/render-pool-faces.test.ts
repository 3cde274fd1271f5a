/** Face crops through the render threads: the focal record found in a thread comes back to the caller. */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniffImage } from '../../../src/core/image/sniff.js';
import type { Variant } from '../../../src/core/variant.js';
import { loadCodecModules } from '../../../src/hosts/node/load-wasm.js';
import { createRenderPool, type RenderPool } from '../../../src/hosts/node/render-pool.js';
import { decodeTraits } from '../../../src/render/decode-peak.js';
import { DETECTOR_MEMORY_BYTES, renderPeakBytes } from '../../../src/render/render-memory.js';
import { codecs, solid } from '../../render/helpers.js';

const MiB = 1024 * 1024;

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/faces/${name}`, import.meta.url)));
const variant = (w: number, gravity: Variant['gravity']): Variant => ({
  tenant: 'faces',
  id: 'x',
  width: w,
  height: w,
  fit: 'cover',
  format: 'png',
  quality: 100,
  version: '',
  negotiated: false,
  gravity,
});

describe('render pool, face crops', () => {
  let pool: RenderPool;
  beforeAll(async () => {
    pool = createRenderPool({ modules: await loadCodecModules(), size: 1 });
    await pool.warmUp();
  }, 60_000);
  afterAll(() => pool.close());

  it('returns the focal record a thread found, and does not look again when given it', async () => {
    const src = fixture('hopper-left.jpg');
    const first = await pool.render(src, variant(128, 'auto'));
    expect(sniffImage(first.body)).toMatchObject({ format: 'png', width: 128, height: 128 });
    expect(first.focal?.face?.x).toBeLessThan(0.5);
    expect(first.timings.detect).toBeGreaterThan(0);

    const again = await pool.render(src, { ...variant(128, 'auto'), focal: first.focal });
    expect(again.focal).toBeUndefined();
    expect(again.timings.detect).toBeUndefined();
    expect(Buffer.from(again.body).equals(Buffer.from(first.body))).toBe(true);
  }, 60_000);

  it('renders another size from the kept master with the record found before, and hands it back to a caller without one', async () => {
    const src = fixture('hopper-right.jpg');
    const first = await pool.render(src, variant(128, 'face'));
    expect(first.focal?.face?.x).toBeGreaterThan(0.5);
    const fromMaster = pool.stats().fromMaster;
    const smaller = await pool.render(src, variant(64, 'face'));
    expect(pool.stats().fromMaster).toBe(fromMaster + 1);
    expect(smaller.timings.detect).toBeUndefined();
    expect(smaller.focal).toEqual(first.focal);
    expect(sniffImage(smaller.body)).toMatchObject({ format: 'png', width: 64, height: 64 });
  }, 60_000);
});

describe("render pool, the face detector's memory", () => {
  it('is reserved from the budget while a thread holds the detector, and given back by replacing an idle one when a render needs the room', async () => {
    // A centre crop needs no detector, but this source's decode (interlaced: a PNG that decodes
    // at full size) fits the budget only without the detector's reservation beside it.
    const large = new Uint8Array(
      await sharp({ create: { width: 2000, height: 2000, channels: 4, background: { r: 200, g: 100, b: 50, alpha: 1 } } })
        .png({ progressive: true })
        .toBuffer(),
    );
    const centre = { ...variant(64, 'center'), format: 'png' as const };
    const info = sniffImage(large)!;
    const need = renderPeakBytes({ ...info, ...decodeTraits(large, info) }, centre, 1, large.length);
    const pool = createRenderPool({ modules: await loadCodecModules(), size: 1, memoryBytes: need + DETECTOR_MEMORY_BYTES - MiB, masterBytes: 0 });
    try {
      await pool.warmUp();
      expect(pool.stats().inflightBytes).toBe(0);
      await pool.render(fixture('hopper-left.jpg'), variant(128, 'auto'));
      expect(pool.stats().inflightBytes).toBe(DETECTOR_MEMORY_BYTES);
      const recycled = pool.stats().recycled;
      const out = await pool.render(large, centre);
      expect(sniffImage(out.body)).toMatchObject({ width: 64, height: 64 });
      expect(pool.stats().recycled).toBe(recycled + 1);
      expect(pool.stats().inflightBytes).toBe(0);
      // The next face crop loads a detector again, and reserves it again.
      const again = await pool.render(fixture('hopper-right.jpg'), variant(128, 'auto'));
      expect(again.focal?.face?.x).toBeGreaterThan(0.5);
      expect(pool.stats().inflightBytes).toBe(DETECTOR_MEMORY_BYTES);
    } finally {
      await pool.close();
    }
  }, 120_000);
});
