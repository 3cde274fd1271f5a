import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { createEdgeCacheCheck } from '../../../src/hosts/fastly/edge-verify.js';

const config = loadServiceConfig({
  tenants: { demo: { breakpoints: [64, 128] }, modern: { breakpoints: [128], formats: ['webp', 'jpeg', 'png', 'avif'] }, secure: { requireSignature: true, keys: { k1: '0123456789abcdef0123' } } },
});
const req = (path: string, accept = '*/*') => new Request(`http://localhost${path}`, { headers: { accept } });

describe('edge-cache check of a URL (Core Cache lookups by canonical key)', () => {
  it('looks up the URL’s canonical key and answers the cached status, or null when nothing is cached', async () => {
    const looked: string[] = [];
    const check = createEdgeCacheCheck(config, (k) => (looked.push(k), k === 'demo/x/64x64-cover-q75.webp' ? 200 : null));
    expect(await check(req('/demo/x/64.webp'))).toBe(200);
    expect(await check(req('/demo/x?w=128&h=128&fmt=webp'))).toBeNull();
    expect(looked).toEqual(['demo/x/64x64-cover-q75.webp', 'demo/x/128x128-cover-q75.webp']);
  });

  it('checks both JPEG and PNG for fmt=auto without WebP (the alpha probe would be a bucket read), the worst answer winning', async () => {
    const looked: string[] = [];
    const cached: Record<string, number> = { 'demo/x/64x0-inside-q75.jpeg': 410, 'demo/x/64x0-inside-q100.png': 200 };
    const check = createEdgeCacheCheck(config, (k) => (looked.push(k), cached[k] ?? null));
    expect(await check(req('/demo/x?w=64', 'image/jpeg,image/*;q=0.8'))).toBe(200);
    expect(looked.sort()).toEqual(Object.keys(cached).sort());
  });

  it('checks both AVIF and WebP where fmt=auto picks AVIF for stills and WebP for animations', async () => {
    const looked: string[] = [];
    const cached: Record<string, number> = { 'modern/x/128x0-inside-q75.avif': 410, 'modern/x/128x0-inside-q75.webp': 200 };
    const check = createEdgeCacheCheck(config, (k) => (looked.push(k), cached[k] ?? null));
    expect(await check(req('/modern/x?w=128', 'image/avif,image/webp'))).toBe(200);
    expect(looked.sort()).toEqual(Object.keys(cached).sort());
  });

  it('skips signature checks (a 403 would hide a cached leak) and answers refusals by their status', async () => {
    const check = createEdgeCacheCheck(config, (k) => (k.startsWith('secure/') ? 200 : null));
    expect(await check(req('/secure/x/64.webp'))).toBe(200);
    expect(await check(req('/nobody/x/64.webp'))).toBe(404);
    expect(await check(req('/demo/x?w=abc'))).toBe(400);
  });
});
