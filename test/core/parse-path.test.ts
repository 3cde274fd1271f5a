import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/core/errors.js';
import { parsePath } from '../../src/core/request/parse-path.js';
import { originalKey, shardOf, tombstoneKey, variantPrefix } from '../../src/core/storage-keys.js';

const status = (p: string) => {
  try {
    parsePath(p);
    return 200;
  } catch (e) {
    return (e as HttpError).status;
  }
};

describe('parsePath', () => {
  it('parses both forms', () => {
    expect(parsePath('/acme/u-42')).toEqual({ tenant: 'acme', id: 'u-42' });
    expect(parsePath('/acme/u-42/128.WEBP')).toEqual({ tenant: 'acme', id: 'u-42', template: { size: '128', format: 'webp' } });
  });

  it.each(['/acme/..', '/acme/%2e%2e', '/acme/a%2fb', '/acme/a\\b', '/acme/a\0b', '/../etc/passwd', '/acme/.hidden', '/acme/a..b', '/ACME/x', '/acme/x/128.gif', '/acme/x/../../y'])(
    'refuses %j',
    (p) => {
      expect([400, 404]).toContain(status(p));
    },
  );
});

describe('storage keys', () => {
  it('are derived under the tenant prefix with a stable shard', () => {
    expect(originalKey('acme', 'u-42')).toBe(`originals/acme/${shardOf('acme', 'u-42')}/u-42`);
    expect(variantPrefix('acme', 'u-42')).toMatch(/^variants\/acme\/[0-9a-f]{2}\/u-42\/$/);
    expect(tombstoneKey('acme', 'u-42')).toMatch(/^tombstones\/acme\/[0-9a-f]{2}\/u-42$/);
    expect(shardOf('acme', 'u-42')).toBe(shardOf('acme', 'u-42'));
  });

  it('spread ids across shards', () => {
    const shards = new Set(Array.from({ length: 2000 }, (_, i) => shardOf('acme', `u-${i}`)));
    expect(shards.size).toBeGreaterThan(240);
  });

  it.each([['acme', '../x'], ['acme', 'a/b'], ['../acme', 'x'], ['acme', '..'], ['acme', '']])('refuse %j %j', (t, id) => {
    expect(() => originalKey(t, id)).toThrow(HttpError);
  });
});
