import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { HttpError } from '../../../src/core/errors.js';
import { neighbourResponse, neighbourVariants, RenderRefused } from '../../../src/core/limits/neighbour-fallback.js';
import type { VariantBody } from '../../../src/core/ports.js';
import { canonicalKey, type Variant, variantName } from '../../../src/core/variant.js';

const LADDER = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024];
const v = (width: number, height: number, extra: Partial<Variant> = {}): Variant => ({
  tenant: 'demo',
  id: 'hopper',
  width,
  height,
  fit: 'cover',
  format: 'webp',
  quality: 75,
  version: '',
  negotiated: false,
  ...extra,
});
const names = (vs: Variant[]) => vs.map(variantName);

describe('neighbourVariants', () => {
  it('one step up the ladder, then one down, both sides of a square together', () => {
    expect(names(neighbourVariants(v(128, 128), LADDER))).toEqual(['192x192-cover-q75.webp', '96x96-cover-q75.webp']);
  });

  it('keeps a free side free, whichever it is', () => {
    expect(names(neighbourVariants(v(384, 0, { fit: 'inside' }), LADDER))).toEqual(['512x0-inside-q75.webp', '256x0-inside-q75.webp']);
    expect(names(neighbourVariants(v(0, 64, { fit: 'inside' }), LADDER))).toEqual(['0x96-inside-q75.webp', '0x48-inside-q75.webp']);
  });

  it('keeps the ratio only where both sides land on the ladder; none past the ends', () => {
    expect(names(neighbourVariants(v(512, 256), LADDER))).toEqual(['768x384-cover-q75.webp', '384x192-cover-q75.webp']);
    // 128×96 (4:3): 192×144 and 96×72 are off the ladder.
    expect(neighbourVariants(v(128, 96), LADDER)).toEqual([]);
    expect(names(neighbourVariants(v(1024, 1024), LADDER))).toEqual(['768x768-cover-q75.webp']);
    expect(names(neighbourVariants(v(16, 16), LADDER))).toEqual(['32x32-cover-q75.webp']);
  });

  it('keeps everything else of the variant: gravity, quality, format, version', () => {
    const [up] = neighbourVariants(v(128, 128, { gravity: 'face', quality: 50, format: 'avif', version: '3' }), LADDER);
    expect(canonicalKey(up!)).toBe('demo/hopper/192x192-cover-gface-q50.avif@v3');
  });
});

describe('neighbourResponse', () => {
  const config = loadServiceConfig({ tenants: { demo: {} } });
  const body = (bytes: number[], status = 200): VariantBody => ({
    status,
    body: new Uint8Array(bytes),
    contentType: 'image/webp',
    etag: '"e"',
    surrogateKeys: ['t:demo', 'i:demo/hopper', 'v:demo/hopper/x'],
    source: 'render',
    timings: {},
  });
  const refused = (variant: Variant) => new RenderRefused(new HttpError(503, 'RENDER_BUDGET', 'over', { 'retry-after': '60' }), variant);
  const get = new Request('http://localhost/demo/hopper?w=128');

  it('serves the cached larger neighbour, marked, briefly cacheable, under the image keys', async () => {
    const cached = new Map([
      ['demo/hopper/192x192-cover-q75.webp', body([1, 2, 3])],
      ['demo/hopper/96x96-cover-q75.webp', body([9])],
    ]);
    const res = neighbourResponse(refused(v(128, 128, { negotiated: true })), get, { config, peek: (k) => cached.get(k) })!;
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      'x-avatar-fallback': 'demo/hopper/192x192-cover-q75.webp',
      'x-variant': 'demo/hopper/128x128-cover-q75.webp',
      'cache-control': 'public, max-age=10',
      'surrogate-key': 't:demo i:demo/hopper v:demo/hopper/x',
      'content-type': 'image/webp',
      'content-length': '3',
      etag: '"e"',
      'x-content-type-options': 'nosniff',
      vary: 'Accept',
    });
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([1, 2, 3]);
  });

  it('takes the smaller one when the larger is not cached, and skips anything but a 200', () => {
    const cached = new Map([
      ['demo/hopper/192x192-cover-q75.webp', body([0], 410)],
      ['demo/hopper/96x96-cover-q75.webp', body([9])],
    ]);
    const res = neighbourResponse(refused(v(128, 128)), get, { config, peek: (k) => cached.get(k) })!;
    expect(res.headers.get('x-avatar-fallback')).toBe('demo/hopper/96x96-cover-q75.webp');
    expect(res.headers.has('vary')).toBe(false);
    expect(neighbourResponse(refused(v(128, 128)), get, { config, peek: () => undefined })).toBeUndefined();
  });
});
