import { describe, expect, it } from 'vitest';
import { exposeGc } from '../../src/hosts/node/expose-gc.js';
import { createWasmDecoder, KEEP_MEMORY_BYTES } from '../../src/render/wasm-decoder.js';
import { codecModules, sample } from './helpers.js';

describe('WebAssembly decoder instances', () => {
  it('an instance grown past KEEP_MEMORY_BYTES is dropped and its memory collected by afterDrop, before the render goes on', async () => {
    const gc = exposeGc();
    let collected = false;
    const registry = new FinalizationRegistry(() => {
      collected = true;
    });
    let grown = 0;
    const wasm = createWasmDecoder((await codecModules()).jpegScaled, 'jpeg-decoder', gc);
    const size = wasm.run(
      sample('seeding.jpg'),
      (ex, len) => {
        const status = ex.decode(len, 2);
        grown = ex.memory.buffer.byteLength;
        registry.register(ex.memory, 'decoder memory');
        return status;
      },
      (_rgba, width, height) => [width, height],
    );
    expect(size).toEqual([2656, 1494]);
    expect(grown).toBeGreaterThan(KEEP_MEMORY_BYTES);
    // Finalizers run as tasks after the collection that found their object gone: only
    // afterDrop's collection can have taken it, nothing here allocates enough for another.
    for (let i = 0; i < 20 && !collected; i++) await new Promise((r) => setTimeout(r, 10));
    expect(collected).toBe(true);
  });
});
