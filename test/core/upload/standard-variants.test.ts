import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { canonicalize, withFormat } from '../../../src/core/request/canonicalize.js';
import { parsePath } from '../../../src/core/request/parse-path.js';
import { parseQuery } from '../../../src/core/request/query.js';
import { PRECOMPUTE_MAX_SIZE, standardVariants } from '../../../src/core/upload/standard-variants.js';
import { canonicalKey, type Format } from '../../../src/core/variant.js';

const config = loadServiceConfig({ tenants: { demo: {}, big: { breakpoints: [600, 900], defaultSize: 700 }, nopng: { formats: ['webp', 'jpeg'] } } });
const tenant = (name: string) => config.tenants.get(name)!;

/** What a real request for the template form resolves to. */
function requested(t: string, id: string, size: number, format: Format): string {
  const path = parsePath(`/${t}/${id}/${size}.${format}`);
  const { image } = parseQuery('', config.limits.maxQueryLength);
  const pending = canonicalize(path, image, null, tenant(t), config.limits);
  return canonicalKey(withFormat(pending, format));
}

describe('standard variants', () => {
  it('are the square ladder up to 512 in WebP and JPEG for a photo, matching what requests resolve to', () => {
    const vs = standardVariants(tenant('demo'), 'u-1', { hasAlpha: false });
    const sizes = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512];
    expect(vs.map(canonicalKey)).toEqual(sizes.flatMap((s) => [requested('demo', 'u-1', s, 'webp'), requested('demo', 'u-1', s, 'jpeg')]));
    expect(Math.max(...vs.map((v) => v.width))).toBe(PRECOMPUTE_MAX_SIZE);
  });

  it('use PNG instead of JPEG for sources with alpha (what fmt=auto gives clients without WebP)', () => {
    const vs = standardVariants(tenant('demo'), 'u-1', { hasAlpha: true });
    expect(new Set(vs.map((v) => v.format))).toEqual(new Set(['webp', 'png']));
    expect(vs.find((v) => v.format === 'png')!.quality).toBe(100);
    expect(canonicalKey(vs.find((v) => v.format === 'png' && v.width === 64)!)).toBe(requested('demo', 'u-1', 64, 'png'));
  });

  it("include the tenant's default size even above the cap, and keep only the tenant's formats", () => {
    expect(standardVariants(tenant('big'), 'a', { hasAlpha: false }).map((v) => v.width)).toEqual([900, 900]);
    expect(standardVariants(tenant('nopng'), 'a', { hasAlpha: true }).map((v) => v.format)).not.toContain('png');
  });

  it('take explicit sizes (snapped to breakpoints) and formats', () => {
    const vs = standardVariants(tenant('demo'), 'a', { hasAlpha: false, sizes: [100, 128, 1000], formats: ['png'] });
    expect(vs.map((v) => `${v.width}.${v.format}`)).toEqual(['128.png', '1024.png']);
  });
});
