import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTombstone } from '../../src/core/tombstone.js';
import { originalKey, variantPrefix } from '../../src/core/storage-keys.js';
import { decodeToRgba } from '../support/pixels.js';
import { countingRenderer, startTestHost } from '../support/node-host.js';
import { blinkingGif } from '../support/blinking-gif.js';

const UPLOAD_TOKEN = 'upload-token-for-tests-0123456789abcdef';
const OTHER_TENANT_TOKEN = 'other-tenant-token-0123456789abcdef';
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';
const LEGACY = 'image/jpeg,image/png,*/*;q=0.8';
const sample = async (name: string) => new Uint8Array(await readFile(new URL(`../../samples/demo/${name}`, import.meta.url)));

/** 20000×20000 PNG: only the header (signature + IHDR); sniffing is enough to refuse it. */
function hugePngHeader(): Uint8Array {
  const b = new Uint8Array(8 + 25 + 12);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(b.buffer);
  dv.setUint32(8, 13);
  b.set([0x49, 0x48, 0x44, 0x52], 12); // IHDR
  dv.setUint32(16, 20000);
  dv.setUint32(20, 20000);
  b.set([8, 2, 0, 0, 0], 24);
  return b;
}

/** A real PNG signature and IHDR, then noise: sniffing accepts it, decoding cannot. */
function garbageBehindPngHeader(png: Uint8Array): Uint8Array {
  const out = new Uint8Array(2033);
  out.set(png.subarray(0, 33));
  for (let i = 33; i < out.length; i++) out[i] = (i * 7919) & 0xff;
  return out;
}

describe('PUT /_upload/{tenant}/{id}', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  const { counter, wrap } = countingRenderer();
  let hopper: Uint8Array;

  beforeAll(async () => {
    host = await startTestHost(
      {
        limits: { maxSourceBytes: 400_000 },
        tenants: { demo: { uploadTokens: { app: UPLOAD_TOKEN } }, other: { uploadTokens: { app: OTHER_TENANT_TOKEN } } },
        admin: { tokens: { ops: ADMIN_TOKEN } },
      },
      { wrapRenderer: wrap },
    );
    hopper = await sample('hopper.jpg');
  });
  afterAll(() => host?.stop());

  const put = (path: string, body: Uint8Array | string, headers: Record<string, string> = {}, method = 'PUT') => fetch(`${host.url}/_upload/${path}`, { method, body: body as BodyInit, headers });
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  it('answers 401 without detail to a missing, wrong or other tenant’s token, and stores nothing', async () => {
    for (const headers of [{}, auth(`${UPLOAD_TOKEN}x`), auth(OTHER_TENANT_TOKEN), { authorization: `Basic ${UPLOAD_TOKEN}` }]) {
      for (const path of ['demo/u-401', 'nosuchtenant/u-401']) {
        const res = await put(path, hopper, headers);
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ code: 'UNAUTHORIZED', message: 'unauthorized' });
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
    expect(await host.store.head(originalKey('demo', 'u-401'))).toBeNull();
  });

  it('answers 405 to other methods, 404 to an unknown tenant (admin token) and 400 to a bad id', async () => {
    expect((await put('demo/u-1', hopper, auth(UPLOAD_TOKEN), 'POST')).status).toBe(405);
    const unknown = await put('nosuchtenant/u-1', hopper, auth(ADMIN_TOKEN));
    expect([unknown.status, (await unknown.json()).code]).toEqual([404, 'UNKNOWN_TENANT']);
    const bad = await put('demo/.hidden', hopper, auth(UPLOAD_TOKEN));
    expect([bad.status, (await bad.json()).code]).toEqual([400, 'INVALID_ID']);
  });

  it('refuses what is not an image (415), too many bytes (413), too many pixels and undecodable bytes (422)', async () => {
    const cases: Array<[Uint8Array | string, Record<string, string>, number, string]> = [
      ['hello, not an image', { 'content-type': 'image/png' }, 415, 'UNSUPPORTED_FORMAT'],
      [new Uint8Array(500_000), {}, 413, 'UPLOAD_TOO_LARGE'],
      [hugePngHeader(), {}, 422, 'SOURCE_TOO_LARGE'],
      [garbageBehindPngHeader(await sample('mysha.png')), {}, 422, 'DECODE_FAILED'],
      ['', {}, 400, 'EMPTY_BODY'],
    ];
    for (const [body, headers, status, code] of cases) {
      const res = await put('demo/u-refused', body, { ...auth(UPLOAD_TOKEN), ...headers });
      expect([res.status, (await res.json()).code]).toEqual([status, code]);
    }
    expect(await host.store.head(originalKey('demo', 'u-refused'))).toBeNull();
    expect((await host.store.list(variantPrefix('demo', 'u-refused'))).keys).toEqual([]);
  });

  it('refuses a HEIC photo with 415 naming the format, and takes an AVIF', async () => {
    // An iPhone HEIC's first box: ftyp, major brand heic (the rest is never read).
    const heic = new Uint8Array([0, 0, 0, 24, ...new TextEncoder().encode('ftypheic'), 0, 0, 0, 0, ...new TextEncoder().encode('mif1heic'), ...new Uint8Array(200)]);
    const res = await put('demo/u-heic', heic, auth(UPLOAD_TOKEN));
    const body = await res.json();
    expect([res.status, body.code]).toEqual([415, 'UNSUPPORTED_FORMAT']);
    expect(body.message).toMatch(/HEIC/);
    const avif = new Uint8Array(
      await sharp(await sample('hopper.jpg'))
        .resize(256)
        .avif()
        .toBuffer(),
    );
    expect((await put('demo/u-avif', avif, auth(UPLOAD_TOKEN))).status).toBeLessThan(300);
    const head = await host.store.head(originalKey('demo', 'u-avif'));
    expect(head?.contentType).toBe('image/avif');
  });

  it('records that an animated GIF is animated, for fmt=auto to know without reading it', async () => {
    const gif = await blinkingGif(2, 64);
    expect((await put('demo/u-anim', gif, auth(UPLOAD_TOKEN))).status).toBe(201);
    expect((await host.store.head(originalKey('demo', 'u-anim')))?.metadata).toMatchObject({ animated: '1' });
  });

  it('refuses a taken-down id with 409 TAKEN_DOWN', async () => {
    await writeTombstone(host.store, { tenant: 'demo', id: 'u-gone', action: 'takedown', reason: 'test', ticket: 'T-1', when: new Date().toISOString(), who: 'ops' });
    const res = await put('demo/u-gone', hopper, auth(UPLOAD_TOKEN));
    expect(res.status).toBe(409);
    expect((await res.json()).code).toBe('TAKEN_DOWN');
    expect(await host.store.head(originalKey('demo', 'u-gone'))).toBeNull();
  });

  it('stores a new original by its sniffed format and precomputes the standard variants', async () => {
    const res = await put('demo/u-1', hopper, { ...auth(UPLOAD_TOKEN), 'content-type': 'image/png' });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/demo/u-1');
    const body = await res.json();
    expect(body).toMatchObject({ tenant: 'demo', id: 'u-1', version: 1, format: 'jpeg', width: 512, height: 512, bytes: hopper.byteLength, variants: 20, failed: 0 });
    expect(body.ms).toBeGreaterThan(0);

    const original = await host.store.get(originalKey('demo', 'u-1'));
    expect(original?.contentType).toBe('image/jpeg');
    expect(original?.metadata).toMatchObject({ version: '1', 'uploaded-by': 'upload:app', alpha: '0', animated: '0' });
    expect(Date.parse(original!.metadata!['uploaded-at']!)).toBeGreaterThan(Date.now() - 60_000);
    expect((await host.store.list(variantPrefix('demo', 'u-1'))).keys).toHaveLength(20);

    // Served from the variant store: no render on the request path.
    const renders = counter.renders;
    for (const path of ['/demo/u-1/128.webp', '/demo/u-1/64.jpg', '/demo/u-1?w=300&h=300&fmt=webp']) {
      const r = await host.get(path);
      expect(r.status).toBe(200);
    }
    expect(counter.renders).toBe(renders);
  });

  it('replaces an original: bumps the version, drops old variants, purges the cache, forgets the alpha flag', async () => {
    const before = await host.get('/demo/u-1/128.webp');
    const etagBefore = before.headers.get('etag');
    expect((await host.get('/demo/u-1/128.webp')).headers.get('x-cache')).toBe('HIT');
    // A non-standard variant, written back on its miss; and the alpha flag (false) remembered.
    expect((await host.get('/demo/u-1?w=100&h=50&fmt=webp')).status).toBe(200);
    expect((await host.get('/demo/u-1?w=48&h=48', { accept: LEGACY })).headers.get('content-type')).toBe('image/jpeg');
    expect((await host.store.list(variantPrefix('demo', 'u-1'))).keys).toHaveLength(21);

    // The admin token may upload too; the bytes (a PNG with alpha) decide the format.
    const res = await put('demo/u-1', await sample('mysha.png'), { ...auth(ADMIN_TOKEN), 'content-type': 'image/jpeg' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ version: 2, format: 'png', variants: 20, failed: 0 });
    const keys = (await host.store.list(variantPrefix('demo', 'u-1'))).keys;
    expect(keys).toHaveLength(20);
    expect(keys.some((k) => k.endsWith('.jpeg') || k.includes('128x64'))).toBe(false);
    expect((await host.store.head(originalKey('demo', 'u-1')))?.metadata).toMatchObject({ version: '2', 'uploaded-by': 'admin:ops', alpha: '1' });

    const after = await host.get('/demo/u-1/128.webp');
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(after.headers.get('etag')).not.toBe(etagBefore);
    const legacy = await host.get('/demo/u-1?w=48&h=48', { accept: LEGACY });
    expect(legacy.headers.get('content-type')).toBe('image/png');
    const img = await decodeToRgba(new Uint8Array(await legacy.arrayBuffer()));
    expect([img.width, img.height]).toEqual([48, 48]);
  });
});
