/**
 * A render's original goes to the render thread without a copy when the store gave the loader
 * a buffer of its own (StoredObject `owned`: a file or a network read), and is copied when the
 * store keeps its bytes. What a user would check: the response is the image either way, and a
 * store holding its objects in memory still serves them whole after the render.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/cache/memory-cache.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import type { ObjectStore, RenderCallOptions, Renderer } from '../../src/core/ports.js';
import { originalKey } from '../../src/core/storage-keys.js';
import { loadCodecModules } from '../../src/hosts/node/load-wasm.js';
import { createRenderPool, type RenderPool } from '../../src/hosts/node/render-pool.js';
import { createApp } from '../../src/http/create-app.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { createMemoryStore } from '../support/memory-store.js';

interface Call {
  opts: RenderCallOptions | undefined;
  sourceBytesAfter: number;
}

describe('the original of a render: handed over or copied', () => {
  let pool: RenderPool;
  let dir: string;
  let hopper: Uint8Array;
  beforeAll(async () => {
    pool = createRenderPool({ modules: await loadCodecModules(), size: 1 });
    await pool.warmUp();
    dir = await mkdtemp(join(tmpdir(), 'avatar-edge-hand-over-'));
    hopper = new Uint8Array(await readFile(new URL('../../samples/demo/hopper.jpg', import.meta.url)));
  });
  afterAll(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(store: ObjectStore): Promise<{ calls: Call[]; res: Response }> {
    await store.put(originalKey('demo', 'u-1'), hopper, { contentType: 'image/jpeg' });
    const calls: Call[] = [];
    const renderer: Renderer = {
      async render(source, variant, opts) {
        const r = await pool.render(source, variant, opts);
        calls.push({ opts, sourceBytesAfter: source.byteLength });
        return r;
      },
    };
    const app = createApp({ config: loadServiceConfig({ tenants: { demo: {} } }), store, cache: createMemoryCache({ maxBytes: 1 << 20 }), renderer, log: () => {} });
    return { calls, res: await app.fetch(new Request('http://localhost/demo/u-1/64.webp')) };
  }

  it('directory store: the file read goes to the thread as it is (the loader is left an empty view)', async () => {
    const { calls, res } = await serve(createFsStore(dir));
    expect(res.status).toBe(200);
    expect(await sharp(new Uint8Array(await res.arrayBuffer())).metadata()).toMatchObject({ format: 'webp', width: 64, height: 64 });
    expect(calls).toEqual([{ opts: { handOver: true }, sourceBytesAfter: 0 }]);
  });

  it('a store that keeps its bytes: copied, and the stored original is still whole', async () => {
    const { store, objects } = createMemoryStore();
    const { calls, res } = await serve(store);
    expect(res.status).toBe(200);
    expect(await sharp(new Uint8Array(await res.arrayBuffer())).metadata()).toMatchObject({ format: 'webp', width: 64, height: 64 });
    expect(calls).toEqual([{ opts: undefined, sourceBytesAfter: hopper.byteLength }]);
    expect(objects.get(originalKey('demo', 'u-1'))!.body).toEqual(hopper);
  });
});
