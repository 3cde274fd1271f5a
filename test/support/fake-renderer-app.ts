import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryCache } from '../../src/cache/memory-cache.js';
import { loadServiceConfig, type ServiceInput } from '../../src/core/config/service-config.js';
import type { Renderer } from '../../src/core/ports.js';
import { originalKey } from '../../src/core/storage-keys.js';
import { createApp } from '../../src/http/create-app.js';
import { createFsStore } from '../../src/storage/fs-store.js';

/** A 1×1 PNG: what the fake renderer returns for every variant. */
export const TINY_PNG = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0));

/** Answers instantly, so suites that only care about the router/auth path stay fast. */
export const fakeRenderer: Renderer = {
  render: async () => ({ body: TINY_PNG, width: 1, height: 1, timings: { decode: 0, resize: 0, encode: 0 } }),
};

/**
 * The full router (createApp with its default authorizer) over a real directory store in a
 * temp dir, with a fake renderer. `originals` lists tenant/id pairs seeded from samples/demo/hopper.jpg.
 */
export async function startFakeRendererApp(input: ServiceInput, originals: Array<[string, string]>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'avatar-edge-fake-'));
  const config = loadServiceConfig(input);
  const store = createFsStore(dataDir);
  const hopper = new Uint8Array(await readFile(new URL('../../samples/demo/hopper.jpg', import.meta.url)));
  for (const [tenant, id] of originals) await store.put(originalKey(tenant, id), hopper, { contentType: 'image/jpeg' });
  const errors: unknown[] = [];
  const app = createApp({
    config,
    store,
    cache: createMemoryCache({ maxBytes: 4 * 1024 * 1024 }),
    renderer: fakeRenderer,
    log: (msg, err) => errors.push([msg, err]),
  });
  return { app, config, store, dataDir, errors, stop: () => rm(dataDir, { recursive: true, force: true }) };
}
