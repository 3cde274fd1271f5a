/**
 * A render thread asks for a full collection after every 16 MiB of source bytes it was sent,
 * failed renders included: each job's source is a copy that is garbage once the job ends, and
 * a failed decode never reaches the collection a large decode asks for. Without it, 200 failed
 * decodes of a 423 KB PNG left the Deno host 50–80 MB larger (npm run bench -- --only=hostile).
 */
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isHttpError } from '../../../src/core/errors.js';
import { startInlineThread } from '../../../src/render/scheduler/inline-thread.js';
import { createRenderScheduler } from '../../../src/render/scheduler/pool.js';
import { concatBytes, makePngChunk } from '../../support/png-chunks.js';
import { codecModules, variant } from '../helpers.js';

const MIB = 1024 * 1024;
const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** A 64×64 RGB PNG whose pixel data stops half-way (every CRC valid), carrying `padding` bytes in a private chunk. */
function truncatedPng(padding: number, seed: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, 64);
  view.setUint32(4, 64);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = new Uint8Array(64 * (1 + 64 * 3)).map((_, i) => (i * 31 + seed) & 0xff);
  const z = deflateSync(rows);
  return concatBytes([
    SIGNATURE,
    makePngChunk('IHDR', ihdr),
    makePngChunk('prIv', new Uint8Array(padding).fill(seed & 0xff)),
    makePngChunk('IDAT', z.subarray(0, z.length >> 1)),
    makePngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** Collections a fresh thread asks for over `count` failed renders of `bytesEach`-byte sources, with `between` run half-way. */
async function failedRenders(count: number, bytesEach: number, between?: (s: ReturnType<typeof createRenderScheduler>) => Promise<unknown>): Promise<number> {
  let collections = 0;
  const s = createRenderScheduler({ modules: await codecModules(), startThread: () => startInlineThread({ collectGarbage: () => collections++ }) });
  await s.warmUp();
  try {
    for (let i = 0; i < count; i++) {
      if (between && i === count / 2) await between(s);
      const err = await s.render(truncatedPng(bytesEach, i), variant(32, 32)).then(
        () => undefined,
        (e: unknown) => e,
      );
      // Refused by the thread's decoder, as a hostile upload would be: not by a check before it.
      expect(isHttpError(err) && err.code).toBe('DECODE_FAILED');
    }
    return collections;
  } finally {
    await s.close();
  }
}

describe('render thread: collection after source bytes', () => {
  it('collects once per 16 MiB of sources, failed decodes included', async () => {
    expect(await failedRenders(40, MIB)).toBe(2);
  });

  it('counts from the last collection, whichever asked for it', async () => {
    // A 3072² PNG decoded whole grows the decoder past what a thread keeps (KEEP_MEMORY_BYTES):
    // the renderer collects after it (wasm-decoder.ts), and that collection took the 12 MiB sent before.
    const large = new Uint8Array(
      await sharp({ create: { width: 3072, height: 3072, channels: 3, background: '#808080' } })
        .png()
        .toBuffer(),
    );
    const largeRender = (s: ReturnType<typeof createRenderScheduler>) => s.render(large, variant(1024, 1024));
    const alone = await failedRenders(2, 1024, largeRender); // the large render's own collections
    expect(alone).toBeGreaterThan(0);
    expect(await failedRenders(24, MIB, largeRender)).toBe(alone);
  });

  it('does not collect for small sources', async () => {
    expect(await failedRenders(40, 1024)).toBe(0);
  });
});
