import { describe, expect, it } from 'vitest';
import { exposeGc } from '../../src/hosts/node/expose-gc.js';
import sharp from 'sharp';
import { createCodecs } from '../../src/render/codecs.js';
import { createWasmDecoder, KEEP_MEMORY_BYTES, sharedInstance } from '../../src/render/wasm-decoder.js';
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

  it('decoders sharing an instance run in one memory, one after another, and may not run inside one another', async () => {
    const { jpegScaled, webpDec } = await codecModules();
    const shared = sharedInstance(jpegScaled);
    const jpeg = createWasmDecoder(jpegScaled, 'jpeg-decoder', undefined, undefined, shared);
    const png = createWasmDecoder(jpegScaled, 'png', undefined, undefined, shared);
    const memories = new Set<WebAssembly.Memory>();
    const decodeJpeg = () =>
      jpeg.run(
        sample('seeding.jpg'),
        (ex, len) => (memories.add(ex.memory), ex.decode(len, 8)),
        (_rgba, width, height) => [width, height],
      );
    expect(decodeJpeg()).toEqual([664, 374]);
    const pngSize = png.run(
      sample('plant.png'),
      (ex, len) => (memories.add(ex.memory), ex.decode_png(len, 1)),
      (_rgba, width, height) => [width, height],
    );
    expect(pngSize[0]).toBeGreaterThan(0);
    expect(decodeJpeg()).toEqual([664, 374]);
    expect(memories.size).toBe(1);
    // The JPEG's pixels are only valid until its call returns: a PNG decode inside it would overwrite them.
    expect(() =>
      jpeg.run(
        sample('seeding.jpg'),
        (ex, len) => ex.decode(len, 8),
        () =>
          png.run(
            sample('plant.png'),
            (ex, len) => ex.decode_png(len, 1),
            () => 0,
          ),
      ),
    ).toThrow('png: called while jpeg-decoder runs in the instance they share');
    // And the instance is usable afterwards.
    expect(decodeJpeg()).toEqual([664, 374]);
    expect(() => createWasmDecoder(webpDec, 'webp', undefined, undefined, shared)).toThrow('same module');
  });

  it('codecs keep a grown instance up to keepInstanceBytes: no drop, no collection, the same memory for the next decode', async () => {
    // A 2048² PNG decoded whole grows the instance past the default (16 MB), not past 64 MB.
    const png = new Uint8Array(
      await sharp({ create: { width: 2048, height: 2048, channels: 3, background: '#808080' } })
        .png()
        .toBuffer(),
    );
    const modules = await codecModules();
    const collections = async (keepInstanceBytes?: number) => {
      let n = 0;
      const c = createCodecs(modules, { collectGarbage: () => n++, ...(keepInstanceBytes ? { keepInstanceBytes } : {}) });
      for (let i = 0; i < 3; i++) expect((await c.decode('png', png)).width).toBe(2048);
      return n;
    };
    expect(await collections()).toBe(3);
    expect(await collections(64 * 1024 * 1024)).toBe(0);
  });
});
