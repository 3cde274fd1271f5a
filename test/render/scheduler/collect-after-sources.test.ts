/**
 * A render thread asks for a full collection after every 16 MiB of source bytes it was sent,
 * failed renders included: each job's source is a copy that is garbage once the job ends, and
 * a failed decode never reaches the collection a large decode asks for. Without it, 200 failed
 * decodes of a 423 KB PNG left the Deno host 50–80 MB larger (npm run bench -- --only=hostile).
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isHttpError } from '../../../src/core/errors.js';
import { startInlineThread } from '../../../src/render/scheduler/inline-thread.js';
import { createRenderScheduler } from '../../../src/render/scheduler/pool.js';
import { concatBytes, makePngChunk } from '../../support/png-chunks.js';
import { codecModules, variant } from '../helpers.js';

const MIB = 1024 * 1024;
const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** The IHDR chunk of a `side`×`side` 8-bit PNG of `colourType` (0 grey, 2 RGB), not interlaced. */
function ihdrChunk(side: number, colourType: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, side);
  view.setUint32(4, side);
  ihdr.set([8, colourType, 0, 0, 0], 8);
  return makePngChunk('IHDR', ihdr);
}

/** A 64×64 RGB PNG whose pixel data stops half-way (every CRC valid), carrying `padding` bytes in a private chunk. */
function truncatedPng(padding: number, seed: number): Uint8Array {
  const rows = new Uint8Array(64 * (1 + 64 * 3)).map((_, i) => (i * 31 + seed) & 0xff);
  const z = deflateSync(rows);
  return concatBytes([
    SIGNATURE,
    ihdrChunk(64, 2),
    makePngChunk('prIv', new Uint8Array(padding).fill(seed & 0xff)),
    makePngChunk('IDAT', z.subarray(0, z.length >> 1)),
    makePngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** A `side`×`side` grey PNG, complete: decoded at full size it takes side² × 4 bytes. */
function largePng(side: number): Uint8Array {
  const rows = new Uint8Array(side * (1 + side)).map((_, i) => (i % (side + 1) === 0 ? 0 : (i * 7) & 0xff));
  return concatBytes([SIGNATURE, ihdrChunk(side, 0), makePngChunk('IDAT', deflateSync(rows)), makePngChunk('IEND', new Uint8Array(0))]);
}

type Step = { failed: number; bytesEach: number } | { large: number };

/** Runs the steps on one inline render thread; returns the full collections it asked for. */
async function collectionsFor(steps: Step[]): Promise<number> {
  let collections = 0;
  const s = createRenderScheduler({ modules: await codecModules(), startThread: () => startInlineThread({ collectGarbage: () => collections++ }) });
  await s.warmUp();
  collections = 0;
  try {
    for (const step of steps) {
      if ('large' in step) {
        const r = await s.render(largePng(step.large), variant(step.large >> 1, step.large >> 1, 'inside', 'png'));
        expect(r.width).toBe(step.large >> 1);
        continue;
      }
      for (let i = 0; i < step.failed; i++) {
        const err = await s.render(truncatedPng(step.bytesEach, i), variant(32, 32)).then(
          () => undefined,
          (e: unknown) => e,
        );
        // Refused by the thread's decoder, as a hostile upload would be: not by a check before it.
        expect(isHttpError(err) && err.code).toBe('DECODE_FAILED');
      }
    }
    return collections;
  } finally {
    await s.close();
  }
}

const failedRenders = (count: number, bytesEach: number) => collectionsFor([{ failed: count, bytesEach }]);

describe('render thread: collection after source bytes', () => {
  it('collects once per 16 MiB of sources, failed decodes included', async () => {
    expect(await failedRenders(40, MIB)).toBe(2);
  });

  it('does not collect for small sources', async () => {
    expect(await failedRenders(40, 1024)).toBe(0);
  });

  it('counts from the last collection, the one after a large decode included', async () => {
    // A 2400×2400 PNG decoded at full size (23 MB of RGBA) grows the decoder past what a thread
    // keeps: the renderer drops it and collects (codecs.ts).
    const large = await collectionsFor([{ large: 2400 }]);
    expect(large).toBeGreaterThanOrEqual(1);
    // 10 + 10 MiB of sources around it: without counting from that collection, the 16 MiB
    // rule would collect once more.
    expect(await collectionsFor([{ failed: 10, bytesEach: MIB }, { large: 2400 }, { failed: 10, bytesEach: MIB }])).toBe(large);
  });
});
