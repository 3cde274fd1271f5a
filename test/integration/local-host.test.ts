import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originalKey } from '../../src/core/storage-keys.js';
import { decodeToRgba } from '../support/pixels.js';
import { countingRenderer, startTestHost } from '../support/node-host.js';

const WEBP = 'image/avif,image/webp,image/apng,*/*;q=0.8';
const LEGACY = 'image/jpeg,image/png,*/*;q=0.8';

describe('local host over HTTP', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  const { counter, wrap } = countingRenderer();

  beforeAll(async () => {
    // demo without a generated fallback, so a missing original is a 404.
    host = await startTestHost({ tenants: { demo: {} } }, { wrapRenderer: wrap });
  });
  afterAll(() => host?.stop());

  it('answers /healthz', async () => {
    const r = await host.get('/healthz');
    expect(r.status).toBe(200);
  });

  it('renders a resized WebP that decodes to the requested size', async () => {
    const r = await host.get('/demo/hopper?w=128&h=128', { accept: WEBP });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/webp');
    expect(r.headers.get('cache-control')).toBe('public, max-age=86400, stale-while-revalidate=604800');
    expect(r.headers.get('vary')).toBe('Accept');
    expect(r.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(r.headers.get('surrogate-key')?.split(' ')).toEqual(['t:demo', 'i:demo/hopper', 'v:demo/hopper/128x128-cover-q75.webp']);
    expect(r.headers.get('server-timing')).toMatch(/decode;dur=.*resize;dur=.*encode;dur=/);
    const img = await decodeToRgba(new Uint8Array(await r.arrayBuffer()));
    expect([img.width, img.height]).toEqual([128, 128]);
  });

  it('gives junk, reordered and differently-cased params the same cached object', async () => {
    const a = await host.get('/demo/astronaut?w=200&h=200&fit=cover', { accept: WEBP });
    const b = await host.get('/demo/astronaut?utm_source=mail&FIT=COVER&h=220&cb=99&w=210', { accept: WEBP });
    expect(a.status).toBe(200);
    expect(b.headers.get('etag')).toBe(a.headers.get('etag'));
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.headers.get('x-variant')).toBe('demo/astronaut/256x256-cover-q75.webp');
  });

  it('maps the template form to the same variant, without Vary', async () => {
    const q = await host.get('/demo/hopper?w=64&h=64&fmt=webp');
    const t = await host.get('/demo/hopper/64.webp');
    expect(t.headers.get('etag')).toBe(q.headers.get('etag'));
    expect(t.headers.get('vary')).toBeNull();
    expect(t.headers.get('x-cache')).toBe('HIT');
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    const first = await host.get('/demo/hopper/96.jpg');
    const etag = first.headers.get('etag')!;
    const again = await host.get('/demo/hopper/96.jpg', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const head = await fetch(`${host.url}/demo/hopper/96.jpg`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(first.headers.get('content-length'));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it('folds Accept: JPEG for photos, PNG for alpha sources when WebP is not accepted', async () => {
    const photo = await host.get('/demo/hopper?w=48&h=48', { accept: LEGACY });
    expect(photo.headers.get('content-type')).toBe('image/jpeg');
    const alpha = await host.get('/demo/mysha?w=48&h=48', { accept: LEGACY });
    expect(alpha.headers.get('content-type')).toBe('image/png');
    const img = await decodeToRgba(new Uint8Array(await alpha.arrayBuffer()));
    expect(img.width).toBe(48);
  });

  it('renders each fit mode to the right dimensions', async () => {
    const size = async (q: string) => {
      const r = await host.get(`/demo/free?${q}&fmt=webp`);
      expect(r.status).toBe(200);
      const img = await decodeToRgba(new Uint8Array(await r.arrayBuffer()));
      return [img.width, img.height];
    };
    // free.jpg is 2880×2160 (4:3).
    expect(await size('w=256&h=128&fit=cover')).toEqual([256, 128]);
    expect(await size('w=256&h=128&fit=contain')).toEqual([256, 128]);
    expect(await size('w=256&h=128&fit=inside')).toEqual([171, 128]);
    expect(await size('w=192')).toEqual([192, 144]);
  });

  it('collapses 20 concurrent misses for one variant into one render', async () => {
    const before = counter.renders;
    const rs = await Promise.all(Array.from({ length: 20 }, () => host.get('/demo/seeding?w=384&h=384', { accept: WEBP })));
    expect(rs.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(rs.map((r) => r.headers.get('etag'))).size).toBe(1);
    expect(counter.renders - before).toBe(1);
  });

  it('serves a stored variant without rendering after the cache is purged', async () => {
    await host.get('/demo/hopper/32.webp');
    const before = counter.renders;
    await host.cache.purge(['i:demo/hopper'], false);
    const r = await host.get('/demo/hopper/32.webp');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('MISS');
    expect(counter.renders).toBe(before);
  });

  it.each([
    ['/demo/hopper?w=abc', 400, 'INVALID_PARAMETER', "'w'"],
    ['/demo/hopper?fit=stretch', 400, 'INVALID_PARAMETER', 'cover, contain, inside'],
    ['/demo/hopper?fmt=gif', 400, 'INVALID_PARAMETER', 'webp'],
    ['/demo/hopper/12x.webp', 400, 'INVALID_PARAMETER', "'w'"],
    ['/demo/nobody?w=64', 404, 'NOT_FOUND', 'nobody'],
    ['/nope/hopper', 404, 'UNKNOWN_TENANT', 'nope'],
    ['/demo/..%2fsecret', 400, 'INVALID_PATH', 'path'],
  ])('%s → %i %s', async (path, status, code, hint) => {
    const r = await host.get(path);
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.headers.get('cache-control')).toBe('no-store');
    const body = (await r.json()) as { code: string; message: string };
    expect(body.code).toBe(code);
    expect(body.message).toContain(hint);
  });

  it('refuses undecodable and oversized originals with 422, never 500', async () => {
    await host.store.put(originalKey('demo', 'broken'), new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6]));
    const broken = await host.get('/demo/broken?w=64');
    expect(broken.status).toBe(422);
    // A PNG header claiming 30000×30000 pixels: refused from the header, before any decode.
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 6, 0, 0, 0, 0, 0, 0, 0]);
    await host.store.put(originalKey('demo', 'huge'), png);
    const huge = await host.get('/demo/huge?w=64');
    expect(huge.status).toBe(422);
    expect(((await huge.json()) as { code: string }).code).toBe('SOURCE_TOO_LARGE');
  });

  it('answers 405 for other methods', async () => {
    const r = await fetch(`${host.url}/demo/hopper`, { method: 'DELETE' });
    expect(r.status).toBe(405);
  });
});
