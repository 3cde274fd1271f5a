import { describe, expect, it } from 'vitest';
import { verificationProbes } from '../../src/core/admin/verify-gone.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { decodeFocalRecord, encodeFocalRecord, focalFor, focalKey } from '../../src/core/focal-point.js';
import { HttpError } from '../../src/core/errors.js';
import { parseRenderPath, renderPath } from '../../src/core/render-protocol.js';
import { canonicalPathAndQuery } from '../../src/core/request/canonical-url.js';
import { canonicalize, withFormat } from '../../src/core/request/canonicalize.js';
import { parsePath } from '../../src/core/request/parse-path.js';
import { parseQuery } from '../../src/core/request/query.js';
import { variantPrefix } from '../../src/core/storage-keys.js';
import { httpError } from './helpers.js';
import { canonicalKey } from '../../src/core/variant.js';
import { focusedRect, planGeometry } from '../../src/render/geometry.js';

const config = loadServiceConfig({ tenants: { demo: {}, faces: { gravity: 'auto' } } });
const canonIn = (tenant: string, pq: string) => {
  const url = new URL(`http://x${pq}`);
  const { image } = parseQuery(url.search, config.limits.maxQueryLength);
  return withFormat(canonicalize(parsePath(url.pathname), image, 'image/webp', config.tenants.get(tenant)!, config.limits), 'webp');
};
const key = (pq: string) => canonicalKey(canonIn(pq.split('/')[1]!, pq));

const error = httpError;

describe('g (gravity) in canonicalization', () => {
  it('a centre-default tenant keeps its keys; face and auto are named', () => {
    expect(key('/demo/u?w=128&h=128')).toBe('demo/u/128x128-cover-q75.webp');
    expect(key('/demo/u?w=128&h=128&g=center')).toBe('demo/u/128x128-cover-q75.webp');
    expect(key('/demo/u?w=128&h=128&g=face')).toBe('demo/u/128x128-cover-gface-q75.webp');
    expect(key('/demo/u?w=128&h=128&g=AUTO')).toBe('demo/u/128x128-cover-gauto-q75.webp');
    expect(canonIn('demo', '/demo/u?w=128&h=128&g=center').gravity).toBeUndefined();
  });

  it('is dropped where it cannot matter (contain, inside, one free side)', () => {
    expect(key('/demo/u?w=128&h=128&fit=contain&g=face')).toBe('demo/u/128x128-contain-q75.webp');
    expect(key('/demo/u?w=128&g=face')).toBe('demo/u/128x0-inside-q75.webp');
    expect(key('/faces/u?w=128&h=128&fit=inside')).toBe('faces/u/128x128-inside-q75.webp');
  });

  it('a tenant can default to auto; an explicit centre then stays in its canonical URL', () => {
    expect(key('/faces/u?w=128&h=128')).toBe('faces/u/128x128-cover-gauto-q75.webp');
    const centre = canonIn('faces', '/faces/u?w=128&h=128&g=center');
    expect(canonicalKey(centre)).toBe('faces/u/128x128-cover-q75.webp');
    expect(canonicalPathAndQuery(centre)).toContain('g=center');
  });

  it('canonical URLs canonicalize to themselves (signing and precompute rely on it)', () => {
    for (const pq of ['/demo/u?w=128&h=128&g=face', '/demo/u?w=128&h=128', '/faces/u?w=96&h=96', '/faces/u?w=96&h=96&g=center', '/faces/u?w=96&h=96&g=face']) {
      const v = canonIn(pq.split('/')[1]!, pq);
      const again = canonIn(pq.split('/')[1]!, canonicalPathAndQuery(v));
      expect(canonicalKey(again)).toBe(canonicalKey(v));
      expect(again.gravity).toBe(v.gravity);
    }
    expect(canonicalPathAndQuery(canonIn('demo', '/demo/u?w=128&h=128'))).not.toContain('g=');
  });

  it('refuses other values with a 400 naming g', () => {
    const e = error(() => canonIn('demo', '/demo/u?w=128&h=128&g=north'));
    expect(e.status).toBe(400);
    expect(e.message).toContain("'g'");
  });

  it('a tenant with an unknown default gravity is a config error', () => {
    expect(() => loadServiceConfig({ tenants: { x: { gravity: 'left' as never } } })).toThrow(/gravity must be one of center, face, auto/);
  });
});

describe('gravity in variant names (render protocol, takedown probes)', () => {
  it('the render path carries it and parses back', () => {
    const v = canonIn('demo', '/demo/u?w=128&h=128&g=face');
    expect(renderPath(v)).toBe('/_render/demo/u/128x128-cover-gface-q75.webp');
    expect(parseRenderPath(renderPath(v), '')).toEqual({ ...v, negotiated: false });
    expect(parseRenderPath('/_render/demo/u/128x128-cover-q75.webp', '').gravity).toBeUndefined();
  });

  it('every format has names that parse back, AVIF included (one pattern for render paths and takedown probes)', () => {
    expect(parseRenderPath('/_render/demo/u/128x128-cover-gauto-q60.avif', '')).toMatchObject({ format: 'avif', gravity: 'auto', quality: 60 });
    expect(parseRenderPath('/_render/demo/u/256x256-cover-q75.avif', '').format).toBe('avif');
    const probes = verificationProbes(config.tenants.get('demo')!, 'u', ['128x128-cover-q60.avif']).map((p) => p.path);
    expect(probes).toContain('/demo/u?w=128&h=128&fit=cover&q=60&fmt=avif');
  });

  it('refuses gravity on a fit that has none, and unknown gravities', () => {
    expect(() => parseRenderPath('/_render/demo/u/128x128-contain-gface-q75.webp', '')).toThrow(HttpError);
    expect(() => parseRenderPath('/_render/demo/u/128x128-cover-gnorth-q75.webp', '')).toThrow(HttpError);
  });

  it('takedown verification probes the stored face variants by URL', () => {
    const probes = verificationProbes(config.tenants.get('demo')!, 'u', ['128x128-cover-gface-q75.webp', 'focal.json']).map((p) => p.path);
    expect(probes).toContain('/demo/u?w=128&h=128&fit=cover&g=face&q=75&fmt=webp');
  });
});

describe('focal records', () => {
  it('live under the image variant prefix, so takedowns and replaced originals delete them', () => {
    expect(focalKey('demo', 'u').startsWith(variantPrefix('demo', 'u'))).toBe(true);
  });

  it('round-trip, and anything else reads as "detect again"', () => {
    const r = { face: { x: 0.25, y: 0.4 }, saliency: null };
    expect(decodeFocalRecord(encodeFocalRecord(r))).toEqual(r);
    const bad = (s: string) => decodeFocalRecord(new TextEncoder().encode(s));
    expect(bad('{"v":1,"face":{"x":2,"y":0.5},"saliency":null}')).toBeUndefined();
    expect(bad('{"v":99,"face":null,"saliency":null}')).toBeUndefined();
    expect(bad('not json')).toBeUndefined();
  });

  it('face uses faces only; auto falls back to saliency; centre uses neither', () => {
    const faceless = { face: null, saliency: { x: 0.9, y: 0.1 } };
    expect(focalFor(faceless, 'face')).toBeUndefined();
    expect(focalFor(faceless, 'auto')).toEqual({ x: 0.9, y: 0.1 });
    expect(focalFor({ face: { x: 0.2, y: 0.3 }, saliency: null }, 'center')).toBeUndefined();
  });
});

describe('focused crops', () => {
  it('centre on the focal point and stay inside the source', () => {
    const src = { width: 1000, height: 500 };
    expect(focusedRect(src, 500, 500, { x: 0.5, y: 0.5 })).toEqual({ x: 250, y: 0, width: 500, height: 500 });
    expect(focusedRect(src, 500, 500, { x: 0.3, y: 0.5 })).toEqual({ x: 50, y: 0, width: 500, height: 500 });
    expect(focusedRect(src, 500, 500, { x: 0.05, y: 0.5 })).toEqual({ x: 0, y: 0, width: 500, height: 500 });
    expect(focusedRect(src, 500, 500, { x: 1, y: 0 })).toEqual({ x: 500, y: 0, width: 500, height: 500 });
    expect(planGeometry(src, { width: 64, height: 64, fit: 'cover' }, { x: 0.9, y: 0.5 }).crop).toEqual({ x: 500, y: 0, width: 500, height: 500 });
    // Without a focal point, the centred crop as before.
    expect(planGeometry(src, { width: 64, height: 64, fit: 'cover' }).crop).toEqual({ x: 250, y: 0, width: 500, height: 500 });
  });
});
