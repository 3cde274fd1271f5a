/**
 * Golden checks: decode the rendered output and compare pixels with a reference PNG within a
 * tolerance (mean absolute error per channel and a difference hash), never encoded bytes.
 * A missing golden fails; `UPDATE_GOLDEN=1 npx vitest run test/render/golden.test.ts` writes it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Format } from '../../src/core/variant.js';
import { codecs, dHash, decodeOutput, hamming, meanAbsError, renderer, sample, variant } from './helpers.js';

const GOLDEN_DIR = new URL('../golden/', import.meta.url).pathname;
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Per-channel mean absolute error allowed (0–255 scale); codec updates move a few levels. */
const MAX_MAE = 3;
/** dHash bits (of 64) allowed to differ: a different crop or orientation flips dozens. */
const MAX_DHASH_DISTANCE = 4;

const CASES: [source: string, size: number, format: Format][] = [
  ['hopper.jpg', 128, 'webp'],
  ['hopper.jpg', 64, 'jpeg'],
  ['plant.png', 128, 'webp'],
  ['plant.png', 64, 'jpeg'],
];

describe('golden renders', () => {
  for (const [source, size, format] of CASES) {
    const name = `${source.replace(/\.\w+$/, '')}-${size}-cover-${format}.png`;
    it(`${source} at ${size} cover ${format} matches test/golden/${name}`, async () => {
      const out = await (await renderer()).render(sample(source), variant(size, size, 'cover', format, 80));
      const actual = await decodeOutput(out.body);
      const path = `${GOLDEN_DIR}${name}`;

      if (!existsSync(path)) {
        if (!UPDATE) throw new Error(`missing golden test/golden/${name}; run with UPDATE_GOLDEN=1 to create it, then look at it`);
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(path, await (await codecs()).encode('png', actual, 100));
      }

      const golden = await (await codecs()).decode('png', new Uint8Array(readFileSync(path)));
      expect([actual.width, actual.height]).toEqual([golden.width, golden.height]);
      const mae = meanAbsError(actual, golden);
      for (const m of mae) expect(m, `mean abs error per channel ${mae.map((v) => v.toFixed(2))}`).toBeLessThan(MAX_MAE);
      expect(hamming(dHash(actual), dHash(golden))).toBeLessThanOrEqual(MAX_DHASH_DISTANCE);
    });
  }

  it('the comparison can fail: a shifted crop is caught', async () => {
    const r = await renderer();
    const centred = await decodeOutput((await r.render(sample('plant.png'), variant(128, 128, 'cover', 'png'))).body);
    // plant is landscape: 'contain' letterboxes the whole plant instead of the centre crop.
    const other = await decodeOutput((await r.render(sample('plant.png'), variant(128, 128, 'contain', 'png'))).body);
    const mae = meanAbsError(centred, other);
    expect(Math.max(...mae)).toBeGreaterThan(MAX_MAE);
  });
});
