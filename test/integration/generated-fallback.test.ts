import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeToRgba } from '../support/pixels.js';
import { startTestHost } from '../support/node-host.js';

const WEBP = 'image/avif,image/webp,image/apng,*/*;q=0.8';

describe('generated fallback over HTTP', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;

  beforeAll(async () => {
    host = await startTestHost({ tenants: { demo: { fallback: 'generated' }, plain: { fallback: 'none' } } });
  });
  afterAll(() => host?.stop());

  it('answers a missing original with a generated avatar, sized and negotiated like any variant, then from cache', async () => {
    const first = await host.get('/demo/ada-lovelace?w=96&h=96', { accept: WEBP });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/webp');
    expect(first.headers.get('x-variant')).toBe('demo/ada-lovelace/96x96-cover-q75.webp');
    expect(first.headers.get('x-cache')).toBe('MISS');
    // Browsers keep it briefly: an upload purges the edge, but cannot reach them.
    expect(first.headers.get('cache-control')).toBe('public, max-age=60');
    const img = await decodeToRgba(new Uint8Array(await first.arrayBuffer()));
    expect([img.format, img.width, img.height]).toEqual(['webp', 96, 96]);

    const again = await host.get('/demo/ada-lovelace/96.webp');
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  it('renders other formats and shapes at the requested size', async () => {
    const png = await host.get('/demo/jane-doe/48.png');
    expect(png.headers.get('content-type')).toBe('image/png');
    const wide = await host.get('/demo/jane-doe?w=512&h=256&fmt=jpeg');
    const [p, w] = await Promise.all([png, wide].map(async (r) => decodeToRgba(new Uint8Array(await r.arrayBuffer()))));
    expect([p!.width, p!.height, w!.width, w!.height]).toEqual([48, 48, 512, 256]);
  });

  it("is a 404 for a tenant whose fallback is 'none'", async () => {
    const r = await host.get('/plain/ada-lovelace?w=96&h=96', { accept: WEBP });
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('never replaces a real original', async () => {
    const r = await host.get('/demo/hopper?w=96&h=96', { accept: WEBP });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toContain('max-age=86400');
  });
});
