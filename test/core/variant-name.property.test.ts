import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verificationProbes } from '../../src/core/admin/verify-gone.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { HttpError } from '../../src/core/errors.js';
import { parseRenderPath, renderPath } from '../../src/core/render-protocol.js';
import { canonicalize, withFormat } from '../../src/core/request/canonicalize.js';
import { parsePath } from '../../src/core/request/parse-path.js';
import { parseQuery } from '../../src/core/request/query.js';
import { variantObjectKey, variantPrefix } from '../../src/core/storage-keys.js';
import { FITS, FORMATS, GRAVITIES, MAX_VARIANT_SIDE, parseVariantName, type VariantNameParts, variantName } from '../../src/core/variant.js';

const side = fc.integer({ min: 0, max: MAX_VARIANT_SIDE });
/** Every name part a canonical variant can carry; centre gravity is the unnamed default. */
const parts: fc.Arbitrary<VariantNameParts> = fc
  .record({
    width: side,
    height: side,
    fit: fc.constantFrom(...FITS),
    gravity: fc.option(fc.constantFrom(...GRAVITIES), { nil: undefined }),
    quality: fc.integer({ min: 1, max: 100 }),
    format: fc.constantFrom(...FORMATS),
  })
  .filter((p) => p.width > 0 || p.height > 0)
  .map(({ gravity, ...p }) => (gravity && p.fit === 'cover' ? { ...p, gravity } : p));

/** What parsing should give back: centre is not written in the name, so it reads back as absent. */
const named = ({ width, height, fit, quality, format, gravity }: VariantNameParts): VariantNameParts =>
  gravity && gravity !== 'center' ? { width, height, fit, quality, format, gravity } : { width, height, fit, quality, format };

describe('variant names: one grammar, both ways (core/variant.ts)', () => {
  it('parses every name it formats back to the same parts, and formats them back to the same name', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const name = variantName(p);
        const back = parseVariantName(name);
        expect(back).toEqual(named(p));
        expect(variantName(back!)).toBe(name);
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts a string only when it is the one name of what it parses to', () => {
    // Fragments around the grammar's edges: leading zeros, 5 digits, one past the largest side, q0, q101, ...
    const num = fc.oneof(fc.integer({ min: 0, max: 20000 }).map(String), fc.constantFrom('0', '00', '0128', '4095', '4096', '4097', '9999', '10000', '', '-1', '1e3', ' 1'));
    const sloppy = fc
      .tuple(
        num,
        num,
        fc.constantFrom(...FITS, 'fill', 'Cover'),
        fc.constantFrom('', '-gface', '-gauto', '-gcenter', '-gnorth', '-g'),
        num,
        fc.constantFrom(...FORMATS, 'jpg', 'gif', 'WEBP', 'webp.webp'),
      )
      .map(([w, h, fit, g, q, fmt]) => `${w}x${h}-${fit}${g}-q${q}.${fmt}`);
    fc.assert(
      fc.property(fc.oneof(sloppy, fc.string({ maxLength: 40 })), (name) => {
        const p = parseVariantName(name);
        if (p) expect(variantName(p)).toBe(name);
      }),
      { numRuns: 5000 },
    );
  });

  it('takes sides from 0 to MAX_VARIANT_SIDE (4096), not both 0, and nothing else', () => {
    expect(MAX_VARIANT_SIDE).toBe(4096);
    for (const ok of ['4096x4096-cover-q100.avif', '1x0-inside-q1.jpeg', '0x4096-inside-q75.webp', '16x16-cover-gface-q75.png', '96x96-cover-gauto-q40.webp']) {
      expect(parseVariantName(ok), ok).toBeDefined();
    }
    for (const bad of [
      '4097x4096-cover-q75.webp',
      '4096x4097-cover-q75.webp',
      '10000x1-inside-q75.webp',
      '0x0-inside-q75.webp',
      '0128x128-cover-q75.webp',
      '128x128-cover-q0.webp',
      '128x128-cover-q101.webp',
      '128x128-cover-q075.webp',
      '128x128-cover-gcenter-q75.webp',
      '128x128-contain-gface-q75.webp',
      '128x128-cover-q75.gif',
      '128x128-cover-q75.jpg',
      'focal.json',
    ]) {
      expect(parseVariantName(bad), bad).toBeUndefined();
    }
  });

  it('names every variant the canonicalizer can produce, at any breakpoints and dpr a tenant may set', () => {
    const tenantInput = fc.record({
      breakpoints: fc.uniqueArray(fc.oneof(fc.integer({ min: 1, max: MAX_VARIANT_SIDE }), fc.constantFrom(1, 4095, MAX_VARIANT_SIDE)), { minLength: 1, maxLength: 8 }),
      defaultSize: fc.integer({ min: 1, max: MAX_VARIANT_SIDE }),
      maxDpr: fc.double({ min: 1, max: 4, noNaN: true }),
      formats: fc.subarray([...FORMATS], { minLength: 1 }),
      gravity: fc.constantFrom(...GRAVITIES),
    });
    const query = fc.record(
      {
        w: fc.integer({ min: 1, max: 20000 }),
        h: fc.integer({ min: 1, max: 20000 }),
        dpr: fc.constantFrom('1', '1.5', '2', '3', '4', '10'),
        fit: fc.constantFrom(...FITS),
        g: fc.constantFrom(...GRAVITIES),
        q: fc.integer({ min: 1, max: 100 }),
        fmt: fc.constantFrom('auto', ...FORMATS),
      },
      { requiredKeys: [] },
    );
    let produced = 0;
    fc.assert(
      fc.property(tenantInput, query, fc.constantFrom(...FORMATS), (input, q, alphaFormat) => {
        // The largest request a deployment may allow: the side limit must come from the ladder, not from here.
        const config = loadServiceConfig({ limits: { maxRequestDimension: 20000 }, tenants: { t: input } });
        const tenant = config.tenants.get('t')!;
        const url = new URL(`http://x/t/img?${new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)]))}`);
        let pending;
        try {
          pending = canonicalize(parsePath(url.pathname), parseQuery(url.search, config.limits.maxQueryLength).image, 'image/avif,image/webp,*/*', tenant, config.limits);
        } catch (e) {
          expect(e).toBeInstanceOf(HttpError);
          return;
        }
        const v = withFormat(pending, FORMATS.includes(pending.format as never) ? (pending.format as (typeof FORMATS)[number]) : alphaFormat);
        const name = variantName(v);
        expect(parseVariantName(name), name).toEqual(named(v));
        produced++;
      }),
      { numRuns: 2000 },
    );
    expect(produced).toBeGreaterThan(500);
  });

  it('is the grammar of the render path, the stored objects and the takedown probes', () => {
    const tenant = loadServiceConfig({}).tenants.get('demo')!;
    fc.assert(
      fc.property(parts, (p) => {
        const common = { tenant: 'demo', id: 'u-1', version: '', negotiated: false };
        const v = { ...common, ...p };
        expect(parseRenderPath(renderPath(v), '')).toEqual({ ...common, ...named(p) });
        const key = variantObjectKey(v);
        expect(key.startsWith(variantPrefix('demo', 'u-1'))).toBe(true);
        expect(parseVariantName(key.slice(variantPrefix('demo', 'u-1').length))).toEqual(named(p));
        const probes = verificationProbes(tenant, 'u-1', [variantName(p)]).map((x) => x.path);
        const qs = new URLSearchParams({ ...(p.width ? { w: String(p.width) } : {}), ...(p.height ? { h: String(p.height) } : {}), fit: p.fit });
        if (named(p).gravity) qs.set('g', p.gravity!);
        qs.set('q', String(p.quality));
        qs.set('fmt', p.format);
        expect(probes).toContain(`/demo/u-1?${qs}`);
      }),
      { numRuns: 500 },
    );
    for (const bad of ['4097x4097-cover-q75.webp', '0128x128-cover-q75.webp']) {
      expect(() => parseRenderPath(`/_render/demo/u-1/${bad}`, ''), bad).toThrow(expect.objectContaining({ status: 400, code: 'INVALID_RENDER_PATH' }));
    }
    // Names the grammar refuses (the focal sidecar, strays) give no probe of their own.
    const plain = verificationProbes(tenant, 'u-1', []).length;
    expect(verificationProbes(tenant, 'u-1', ['focal.json', '10000x1-inside-q75.webp']).length).toBe(plain);
  });
});
