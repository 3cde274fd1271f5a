import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { HttpError } from '../../src/core/errors.js';
import { resolveImageRequest } from '../../src/core/delivery/image-handler.js';
import type { VariantLoader } from '../../src/core/ports.js';

// The README's URL API section, as the pipeline really resolves it (default tenant policy).
const config = loadServiceConfig({ tenants: { acme: {} } });
const loader: VariantLoader = {
  load: () => Promise.reject(new Error('resolving never loads')),
  facts: async () => ({ alpha: false, animated: false }),
};
const WEBP = 'image/avif,image/webp,*/*;q=0.8';
const keyOf = async (path: string) => (await resolveImageRequest(new Request(`http://127.0.0.1${path}`, { headers: { accept: WEBP } }), { config, loader })).key;
const codeOf = async (path: string) => {
  try {
    await keyOf(path);
    return null;
  } catch (e) {
    return [(e as HttpError).status, (e as HttpError).code];
  }
};

describe('the README examples', () => {
  it('the first example is 384 wide, its height free', async () => {
    expect(await keyOf('/acme/u-42?w=287&fmt=auto&utm_source=mail')).toBe('acme/u-42/384x0-inside-q75.webp');
  });

  it('w=287, W=300 and w=144&dpr=2 share one object; the 384.webp template is the square one', async () => {
    for (const q of ['?w=287', '?W=300&utm_source=x', '?w=144&dpr=2']) expect(await keyOf(`/acme/u-42${q}`)).toBe('acme/u-42/384x0-inside-q75.webp');
    for (const p of ['/acme/u-42/384.webp', '/acme/u-42?w=287&h=287', '/acme/u-42?w=144&h=144&dpr=2']) expect(await keyOf(p)).toBe('acme/u-42/384x384-cover-q75.webp');
  });

  it('the id and path rules', async () => {
    expect(await codeOf(`/acme/${'a'.repeat(128)}?w=64`)).toBeNull();
    for (const id of ['.a', '_a', '-a', 'a..b', 'a'.repeat(129)]) expect(await codeOf(`/acme/${id}`)).toEqual([400, 'INVALID_ID']);
    expect(await codeOf('/-acme/u-42')).toEqual([400, 'INVALID_TENANT']);
    expect(await codeOf('/acme/u%2D42')).toEqual([400, 'INVALID_PATH']);
    expect(await codeOf(`/acme/${'a'.repeat(300)}`)).toEqual([414, 'PATH_TOO_LONG']);
  });
});
