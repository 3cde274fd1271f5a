/**
 * Face-aware cover crops through the real Node host: the focal point is found on the first
 * face/auto render of an original, stored next to its variants, reused by later renders (no
 * detection in their Server-Timing), and deleted by a takedown with everything else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUrl } from '../../src/core/auth/sign-url.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { decodeFocalRecord, focalKey } from '../../src/core/focal-point.js';
import { variantPrefix } from '../../src/core/storage-keys.js';
import { decodeToRgba } from '../support/pixels.js';
import { startTestHost } from '../support/node-host.js';

const TOKEN = 'integration-admin-token-0123456789abcdef';
const SERVICE = {
  tenants: { demo: {}, faces: { gravity: 'auto' as const }, secure: { requireSignature: true, keys: { k1: 'face-test-signing-key-0123456789' } } },
  admin: { tokens: { bot: TOKEN } },
};

describe('face crops over HTTP (node host)', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;

  beforeAll(async () => {
    host = await startTestHost(SERVICE);
  }, 60_000);
  afterAll(() => host?.stop());

  it('the faces tenant crops around the face by default, finds the focal point once and keeps it', async () => {
    expect(await host.store.head(focalKey('faces', 'hopper-left'))).toBeNull();
    const first = await host.get('/faces/hopper-left?w=128&h=128&fmt=png');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-variant')).toBe('faces/hopper-left/128x128-cover-gauto-q100.png');
    expect(first.headers.get('server-timing')).toMatch(/detect;dur=/);
    const img = await decodeToRgba(new Uint8Array(await first.arrayBuffer()));
    expect([img.width, img.height]).toEqual([128, 128]);

    const stored = await host.store.get(focalKey('faces', 'hopper-left'));
    const record = stored && decodeFocalRecord(stored.body);
    // hopper's face is in the left half of this 2:1 photo.
    expect(record?.face?.x).toBeLessThan(0.5);

    const second = await host.get('/faces/hopper-left?w=64&h=64&fmt=png');
    expect(second.status).toBe(200);
    expect(second.headers.get('server-timing')).toMatch(/decode;dur=/);
    expect(second.headers.get('server-timing')).not.toMatch(/detect;dur=/);
  }, 60_000);

  it('g=center in the faces tenant is the plain centre crop, without detection', async () => {
    const r = await host.get('/faces/astronaut-right?w=96&h=96&g=center&fmt=png');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-variant')).toBe('faces/astronaut-right/96x96-cover-q100.png');
    expect(r.headers.get('server-timing')).not.toMatch(/detect;dur=/);
    expect(await host.store.head(focalKey('faces', 'astronaut-right'))).toBeNull();
  }, 60_000);

  it('the demo tenant keeps centre crops and their names unless g asks otherwise', async () => {
    const plain = await host.get('/demo/hopper?w=64&h=64&fmt=webp');
    expect(plain.headers.get('x-variant')).toBe('demo/hopper/64x64-cover-q75.webp');
    const face = await host.get('/demo/hopper?w=64&h=64&fmt=webp&g=face');
    expect(face.headers.get('x-variant')).toBe('demo/hopper/64x64-cover-gface-q75.webp');
    expect(face.status).toBe(200);
    const bad = await host.get('/demo/hopper?w=64&h=64&g=left');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('cache-control')).toBe('no-store');
    expect(await bad.json()).toMatchObject({ code: 'INVALID_PARAMETER' });
  }, 60_000);

  it('signatures cover g: a signed face crop is served, the same signature with another g is refused', async () => {
    const secure = loadServiceConfig(SERVICE).tenants.get('secure')!;
    const signed = await signUrl({ tenant: secure, id: 'hopper', params: { w: 64, h: 64, g: 'face', fmt: 'webp' }, kid: 'k1' });
    expect(signed.url).toContain('g=face');
    const ok = await host.get(signed.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-variant')).toBe('secure/hopper/64x64-cover-gface-q75.webp');
    const tampered = await host.get(signed.url.replace('g=face', 'g=auto'));
    expect(tampered.status).toBe(403);
    expect(await tampered.json()).toMatchObject({ code: 'BAD_SIGNATURE' });
  }, 60_000);

  it('a takedown deletes the stored focal point with the variants', async () => {
    expect((await host.get('/faces/group?w=128&h=128')).status).toBe(200);
    expect(await host.store.head(focalKey('faces', 'group'))).not.toBeNull();
    const res = await fetch(`${host.url}/_admin/takedown`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'faces', id: 'group', reason: 'test', ticket: 'T-1' }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).deleted).toContain(focalKey('faces', 'group'));
    expect(await host.store.head(focalKey('faces', 'group'))).toBeNull();
    expect((await host.store.list(variantPrefix('faces', 'group'))).keys).toEqual([]);
  }, 60_000);
});
