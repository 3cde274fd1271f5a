/** AVIF as an output format: fmt=avif, the template extension, fmt=auto by the tenant's order. */
import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { canonicalize, withFormat } from '../../src/core/request/canonicalize.js';
import { negotiateFormat, resolveNegotiated } from '../../src/core/request/negotiate-format.js';
import { parsePath } from '../../src/core/request/parse-path.js';
import { parseQuery } from '../../src/core/request/query.js';
import { standardFormats } from '../../src/core/upload/standard-variants.js';
import { canonicalKey, CONTENT_TYPES } from '../../src/core/variant.js';

const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const OLD_SAFARI = 'image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5';

function setup(tenant: Record<string, unknown>) {
  const config = loadServiceConfig({ tenants: { t: tenant } } as never);
  const t = config.tenants.get('t')!;
  return (pathAndQuery: string, accept: string | null) => {
    const url = new URL(`http://x${pathAndQuery}`);
    const v = canonicalize(parsePath(url.pathname), parseQuery(url.search, config.limits.maxQueryLength).image, accept, t, config.limits);
    // The key a still original gets (an animated one's AVIF-or-WebP resolves to WebP).
    const key = v.format === 'jpeg-or-png' ? undefined : canonicalKey(withFormat(v, resolveNegotiated(v.format, { alpha: false, animated: false })));
    return { format: v.format, negotiated: v.negotiated, key };
  };
}

describe('AVIF output format', () => {
  it('is opt-in: a default tenant refuses fmt=avif and never negotiates it', () => {
    const canon = setup({});
    expect(() => canon('/t/a?fmt=avif', CHROME)).toThrow(/fmt/);
    expect(canon('/t/a?w=128&h=128', CHROME).format).toBe('webp');
  });

  it('fmt=avif and the .avif template give one canonical AVIF variant', () => {
    const canon = setup({ formats: ['webp', 'jpeg', 'png', 'avif'] });
    const a = canon('/t/a?w=128&h=128&fmt=avif', null);
    expect(a).toMatchObject({ format: 'avif', negotiated: false, key: 't/a/128x128-cover-q75.avif' });
    expect(canon('/t/a/128.avif', null).key).toBe(a.key);
    expect(CONTENT_TYPES.avif).toBe('image/avif');
  });

  it("fmt=auto picks AVIF only when Accept lists image/avif, in the tenant's order", () => {
    const canon = setup({ formats: ['webp', 'jpeg', 'png', 'avif'] });
    expect(canon('/t/a?w=128&h=128', CHROME)).toMatchObject({ format: 'avif-or-webp', negotiated: true, key: 't/a/128x128-cover-q75.avif' });
    expect(canon('/t/a?w=128&h=128', OLD_SAFARI)).toMatchObject({ format: 'webp', negotiated: true });
    expect(canon('/t/a?w=128&h=128', '*/*')).toMatchObject({ format: 'jpeg-or-png', negotiated: true });
    expect(canon('/t/a?w=128&h=128', 'image/avif;q=0,image/webp')).toMatchObject({ format: 'webp' });
    const webpFirst = setup({ formats: ['webp', 'jpeg', 'png', 'avif'], autoFormats: ['webp', 'avif'] });
    expect(webpFirst('/t/a?w=128&h=128', CHROME).format).toBe('webp');
    expect(webpFirst('/t/a?w=128&h=128', 'image/avif').format).toBe('avif');
  });

  it('fmt=auto keeps WebP for boxes under 128 px, where AVIF is larger and slower', () => {
    const canon = setup({ formats: ['webp', 'jpeg', 'png', 'avif'] });
    expect(canon('/t/a?w=96&h=96', CHROME).format).toBe('webp');
    expect(canon('/t/a?w=64&h=64&dpr=2', CHROME).format).toBe('avif-or-webp');
    expect(canon('/t/a?w=96&h=96&fmt=avif', CHROME).format).toBe('avif');
    const config = loadServiceConfig({ tenants: { t: { formats: ['webp', 'jpeg', 'png', 'avif'] } } } as never);
    expect(standardFormats(config.tenants.get('t')!, false, undefined, 64)).toEqual(['webp', 'jpeg']);
  });

  it('refuses an autoFormats entry that is not a modern format', () => {
    expect(() => setup({ autoFormats: ['jpeg'] })).toThrow(/autoFormats/);
  });

  it('negotiateFormat without an order prefers AVIF, then WebP', () => {
    expect(negotiateFormat(CHROME, ['avif', 'webp', 'jpeg'])).toBe('avif-or-webp');
    expect(negotiateFormat(CHROME, ['webp', 'jpeg'])).toBe('webp');
  });

  it('fmt=auto gives an animated original WebP when WebP is acceptable, else follows the order', () => {
    const still = { alpha: false, animated: false };
    const animated = { alpha: false, animated: true };
    const auto = (accept: string, allowed = ['avif', 'webp', 'jpeg'] as const, order = ['avif', 'webp'] as const) => {
      const n = negotiateFormat(accept, allowed, order, 256);
      return [resolveNegotiated(n, still), resolveNegotiated(n, animated)];
    };
    expect(auto(CHROME)).toEqual(['avif', 'webp']);
    expect(auto('image/avif,image/webp')).toEqual(['avif', 'webp']);
    // No WebP in Accept, in the tenant's formats or in its autoFormats: AVIF (a still) as before.
    expect(auto('image/avif,image/webp;q=0')).toEqual(['avif', 'avif']);
    expect(auto(CHROME, ['avif', 'jpeg'] as never)).toEqual(['avif', 'avif']);
    expect(auto(CHROME, undefined, ['avif'] as never)).toEqual(['avif', 'avif']);
    // WebP first in the order: WebP for both, nothing to ask of the original.
    expect(negotiateFormat(CHROME, ['avif', 'webp'], ['webp', 'avif'], 256)).toBe('webp');
    // Without WebP, alpha still decides JPEG or PNG; animation does not change it.
    expect(resolveNegotiated(negotiateFormat('*/*', ['jpeg', 'png']), { alpha: true, animated: true })).toBe('png');
  });

  it('precompute renders what fmt=auto can answer: AVIF too when the tenant allows it', () => {
    const config = loadServiceConfig({ tenants: { t: { formats: ['webp', 'jpeg', 'png', 'avif'] }, d: {} } } as never);
    expect(standardFormats(config.tenants.get('t')!, false)).toEqual(['avif', 'webp', 'jpeg']);
    expect(standardFormats(config.tenants.get('d')!, true)).toEqual(['webp', 'png']);
  });
});
