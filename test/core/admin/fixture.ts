import { createMemoryCache } from '../../../src/cache/memory-cache.js';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import type { Renderer } from '../../../src/core/ports.js';
import { originalKey } from '../../../src/core/storage-keys.js';
import { variantName } from '../../../src/core/variant.js';
import { createApp } from '../../../src/http/create-app.js';
import { createMemoryStore } from '../../support/memory-store.js';

export const TOKEN = 'test-admin-token-0123456789abcdef-0001';
export const OTHER_TOKEN = 'test-admin-token-0123456789abcdef-0002';

/** Bytes that name the variant: enough for the pipeline, no codecs needed. */
export function fakeRenderer() {
  const state = { renders: 0, gate: null as Promise<void> | null, started: () => {} };
  const renderer: Renderer = {
    async render(_source, v) {
      state.renders++;
      state.started();
      if (state.gate) await state.gate;
      return { body: new TextEncoder().encode(`rendered ${v.tenant}/${v.id} ${variantName(v)}`), width: v.width, height: v.height, timings: { decode: 0, resize: 0, encode: 0 } };
    },
  };
  return { renderer, state };
}

/** The whole in-process app (router, cache, loader, admin) over an in-memory store (another app's, to act as a second process). */
export function adminFixture(mem = createMemoryStore()) {
  const config = loadServiceConfig({
    tenants: { demo: { breakpoints: [32, 64, 128, 256] }, acme: { breakpoints: [64, 128] } },
    admin: { tokens: { 'admin-1': TOKEN, 'admin-2': OTHER_TOKEN } },
  });
  const cache = createMemoryCache({ maxBytes: 10_000_000 });
  const fake = fakeRenderer();
  const app = createApp({ config, store: mem.store, cache, renderer: fake.renderer, log: () => {} });
  const enc = new TextEncoder();

  return {
    ...mem,
    config,
    cache,
    fake,
    app,
    async seed(tenant: string, id: string) {
      await mem.store.put(originalKey(tenant, id), enc.encode(`original ${tenant}/${id}`), { contentType: 'image/jpeg' });
    },
    get: (path: string, accept = 'image/webp,*/*') => app.fetch(new Request(`http://localhost${path}`, { headers: { accept } })),
    admin(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      return app.fetch(new Request(`http://localhost/_admin/${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) }));
    },
  };
}
