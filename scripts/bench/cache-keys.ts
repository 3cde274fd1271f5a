/**
 * Cache-key suite: replay a synthetic trace through the app's fetch handler (in process, an
 * in-memory store, an instant fake renderer) and compare distinct raw URLs with distinct
 * canonical variants, and the hit ratio the local cache achieves with the ceiling.
 */
import { createMemoryCache } from '../../src/cache/memory-cache.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import type { ObjectStore, Renderer, StoredObject } from '../../src/core/ports.js';
import { originalKey } from '../../src/core/storage-keys.js';
import { createApp } from '../../src/http/create-app.js';
import type { SuiteReport } from './lib/report.js';
import { fmt, intFmt, ratio } from './lib/stats.js';
import { generateTrace } from './lib/trace.js';

function memoryStore(): ObjectStore {
  const m = new Map<string, StoredObject>();
  return {
    get: async (k) => m.get(k) ?? null,
    head: async (k) => {
      const o = m.get(k);
      return o ? { size: o.body.byteLength, contentType: o.contentType, etag: o.etag, metadata: o.metadata } : null;
    },
    put: async (k, body, o) => void m.set(k, { body, contentType: o?.contentType, metadata: o?.metadata }),
    delete: async (k) => void m.delete(k),
    list: async (prefix) => ({ keys: [...m.keys()].filter((k) => k.startsWith(prefix)) }),
  };
}

// A tiny real JPEG header is enough for sniffing (alpha for fmt=auto); the renderer is fake.
const ORIGINAL = new Uint8Array(
  Buffer.from(
    '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/wAALCAAIAAgBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==',
    'base64',
  ),
);

export async function runCacheKeys(opts: { quick: boolean }): Promise<SuiteReport> {
  const requests = opts.quick ? 20_000 : 100_000;
  const images = opts.quick ? 2_000 : 10_000;
  const cacheMb = 16;
  const trace = generateTrace({ requests, images });
  const config = loadServiceConfig({ tenants: { demo: {} } });
  const store = memoryStore();
  for (let i = 0; i < images; i++) await store.put(originalKey('demo', `u-${i}`), ORIGINAL, { contentType: 'image/jpeg' });
  let renders = 0;
  const renderer: Renderer = {
    // Bodies sized like real avatars (~0.07 bytes per pixel), so the byte-bounded LRU behaves.
    render: async (_src, v) => {
      renders++;
      const side = Math.max(v.width, v.height, 64);
      return { body: new Uint8Array(Math.round(side * side * 0.07) + 200), width: v.width, height: v.height, timings: { decode: 0, resize: 0, encode: 0 } };
    },
  };
  const cache = createMemoryCache({ maxBytes: cacheMb * 1024 * 1024 });
  const app = createApp({ config, store, cache, renderer, log: () => {} });

  const rawUrls = new Set<string>();
  const rawWithAccept = new Set<string>();
  const variants = new Set<string>();
  let hits = 0;
  let ok = 0;
  const t = performance.now();
  for (const r of trace) {
    rawUrls.add(r.url);
    rawWithAccept.add(`${r.url} ${r.accept}`);
    const res = await app.fetch(new Request(`http://localhost${r.url}`, { headers: { accept: r.accept } }));
    await res.arrayBuffer();
    if (res.status !== 200) continue;
    ok++;
    variants.add(res.headers.get('x-variant')!);
    if (res.headers.get('x-cache') === 'HIT') hits++;
  }
  const seconds = (performance.now() - t) / 1000;
  const hitRatio = hits / requests;
  const ceiling = 1 - variants.size / requests;
  const rawCeiling = 1 - rawWithAccept.size / requests;

  return {
    id: 'cache-keys',
    title: 'Cache keys: raw URLs vs canonical variants',
    method:
      `A synthetic trace of ${intFmt(requests)} requests: Zipf(1.1) popularity over ${intFmt(images)} images, 25% path-template URLs, ` +
      "the rest with arbitrary widths (15%), dpr, fmt spellings, q, fit, tracking params, cache busters, reordered params; five real browsers' Accept headers. " +
      `Replayed in order through the app's fetch handler in process (memory store, instant fake renderer, ${cacheMb} MB LRU) in ${fmt(seconds, 1)} s.`,
    headlines: [
      {
        metric: 'distinct objects to cache',
        ours: `${intFmt(variants.size)} canonical variants`,
        reference: `${intFmt(rawWithAccept.size)} raw URL+Accept`,
        referenceName: 'raw-URL cache key',
        ratio: ratio(variants.size, rawWithAccept.size, 3),
      },
      {
        metric: 'local cache hit ratio',
        ours: `${fmt(hitRatio * 100, 1)}%`,
        reference: `${fmt(ceiling * 100, 1)}%`,
        referenceName: 'ceiling: every canonical variant cached forever',
        ratio: ratio(hitRatio, ceiling, 3),
      },
      {
        metric: 'hit-ratio ceiling, canonical vs raw keys',
        ours: `${fmt(ceiling * 100, 1)}%`,
        reference: `${fmt(rawCeiling * 100, 1)}%`,
        referenceName: 'raw URL+Accept as key',
        ratio: ratio(ceiling, rawCeiling, 2),
      },
    ],
    tables: [
      {
        headers: ['count', 'value'],
        rows: [
          ['requests', intFmt(requests)],
          ['answered 200', intFmt(ok)],
          ['distinct raw URLs', intFmt(rawUrls.size)],
          ['distinct raw URL + Accept', intFmt(rawWithAccept.size)],
          ['distinct canonical variants', intFmt(variants.size)],
          ['renders (misses that reached the renderer)', intFmt(renders)],
          ['cache hits', intFmt(hits)],
          ['misses served from the variant store (evicted from the LRU, never rendered twice)', intFmt(ok - hits - renders)],
        ],
      },
    ],
    notes: [],
  };
}
