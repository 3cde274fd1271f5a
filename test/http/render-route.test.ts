import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/cache/memory-cache.js';
import { ConfigError, loadServiceConfig } from '../../src/core/config/service-config.js';
import type { ObjectStore, Renderer } from '../../src/core/ports.js';
import { originalKey, tombstoneKey } from '../../src/core/storage-keys.js';
import { createApp } from '../../src/http/create-app.js';
import { createFsStore } from '../../src/storage/fs-store.js';

const SECRET = 'render-secret-0123456789abcdef0123456789';
const OLD = 'old-render-secret-0123456789abcdef01234567';
const config = loadServiceConfig({ tenants: { demo: {} } });

/** Deterministic stand-in for the codecs: the route's job is auth, protocol and headers. */
function countingRenderer() {
  let calls = 0;
  const renderer: Renderer = {
    async render(_src, v) {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return { body: new TextEncoder().encode(`${v.width}x${v.height}.${v.format}`), width: v.width, height: v.height, timings: { decode: 1, resize: 2, encode: 3 } };
    },
  };
  return { renderer, calls: () => calls };
}

let dir: string;
let store: ObjectStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'render-route-'));
  store = createFsStore(dir);
  await store.put(originalKey('demo', 'hopper'), new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), { contentType: 'image/jpeg' });
  await store.put(originalKey('demo', 'gone'), new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), { contentType: 'image/jpeg' });
  await store.put(tombstoneKey('demo', 'gone'), new TextEncoder().encode('{}'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function app(opts: { mode?: 'full' | 'renderer'; secrets?: string[] } = {}) {
  const r = countingRenderer();
  const cache = createMemoryCache({ maxBytes: 1 << 20 });
  const a = createApp({ config, store, cache, renderer: r.renderer, renderSecrets: opts.secrets ?? [SECRET], mode: opts.mode, log: () => {} });
  const get = (path: string, headers: Record<string, string> = {}) => a.fetch(new Request(`http://localhost${path}`, { headers }));
  return { get, calls: r.calls };
}
const auth = { authorization: `Bearer ${SECRET}` };

describe('render route', () => {
  it('answers 401 without detail when the secret is missing or wrong, before looking at the path', async () => {
    const { get, calls } = app();
    const variants: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-secret-0123456789abcdef0123456789' }, { authorization: SECRET }, { authorization: `Bearer ${SECRET}x` }];
    for (const headers of variants) {
      for (const path of ['/_render/demo/hopper/256x256-cover-q75.webp', '/_render/demo/hopper']) {
        const res = await get(path, headers);
        expect(res.status).toBe(401);
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(await res.json()).toEqual({ code: 'UNAUTHORIZED', message: 'unauthorized' });
      }
    }
    expect(calls()).toBe(0);
  });

  it('renders, tags and writes back; the next call reads the stored variant', async () => {
    const { get, calls } = app();
    const res = await get('/_render/demo/hopper/256x256-cover-q75.webp', auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('surrogate-key')).toBe('t:demo i:demo/hopper v:demo/hopper/256x256-cover-q75.webp');
    expect(res.headers.get('x-render-source')).toBe('render');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=31536000/);
    expect(res.headers.get('server-timing')).toMatch(/decode;dur=1\.0, resize;dur=2\.0, encode;dur=3\.0/);
    expect(await res.text()).toBe('256x256.webp');

    const again = await get('/_render/demo/hopper/256x256-cover-q75.webp', auth);
    expect(again.headers.get('x-render-source')).toBe('variant-store');
    expect(again.headers.get('etag')).toBe(res.headers.get('etag'));
    expect(calls()).toBe(1);

    const cond = await get('/_render/demo/hopper/256x256-cover-q75.webp', { ...auth, 'if-none-match': res.headers.get('etag')! });
    expect(cond.status).toBe(304);
    expect(await cond.text()).toBe('');
  });

  it('collapses concurrent requests for one variant into one render', async () => {
    const { get, calls } = app();
    const path = '/_render/demo/hopper/128x128-cover-q75.jpeg?v=7';
    const all = await Promise.all(Array.from({ length: 5 }, () => get(path, auth)));
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(calls()).toBe(1);
  });

  it('answers 404 for a missing original, 410 for a tombstone, 400 for a bad or non-canonical path', async () => {
    const { get, calls } = app();
    const missing = await get('/_render/demo/nobody/256x256-cover-q75.webp', auth);
    expect(missing.status).toBe(404);
    expect((await missing.json()).code).toBe('NOT_FOUND');

    const gone = await get('/_render/demo/gone/256x256-cover-q75.webp', auth);
    expect(gone.status).toBe(410);
    expect(gone.headers.get('x-render-source')).toBe('tombstone');
    expect(gone.headers.get('cache-control')).toBe('public, max-age=60');

    expect((await get('/_render/nope/hopper/256x256-cover-q75.webp', auth)).status).toBe(404);
    for (const bad of ['/_render/demo/hopper/256x256-cover-q75.gif', '/_render/demo/hopper', '/_render/demo/hop%2fper/256x256-cover-q75.webp']) {
      const res = await get(bad, auth);
      expect(res.status, bad).toBe(400);
      expect((await res.json()).code).toBe('INVALID_RENDER_PATH');
    }
    for (const odd of [
      '/_render/demo/hopper/257x256-cover-q75.webp',
      '/_render/demo/hopper/256x256-cover-q74.webp',
      '/_render/demo/hopper/256x0-cover-q75.webp',
      '/_render/demo/hopper/256x256-cover-q75.png',
    ]) {
      const res = await get(odd, auth);
      expect(res.status, odd).toBe(400);
      expect((await res.json()).code).toBe('NOT_CANONICAL');
    }
    expect(calls()).toBe(0);
  });

  it('renderer mode serves only the render route (and health)', async () => {
    const { get } = app({ mode: 'renderer' });
    expect((await get('/demo/hopper?w=256')).status).toBe(404);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/_render/demo/hopper/256x256-cover-q75.webp', auth)).status).toBe(200);
  });

  it('accepts any of several secrets (rotation) and refuses short ones', async () => {
    const { get } = app({ secrets: [OLD, SECRET] });
    expect((await get('/_render/demo/hopper/256x256-cover-q75.webp', auth)).status).toBe(200);
    expect((await get('/_render/demo/hopper/256x256-cover-q75.webp', { authorization: `Bearer ${OLD}` })).status).toBe(200);
    expect(() => app({ secrets: ['short'] })).toThrow(/secret #1 must be 32-512/);
  });
});
