import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/core/errors.js';
import { assertSafePath, hasUnsafePathChars, ID_RE, isValidId, MAX_PATH_LENGTH, parsePath, TENANT_RE, VERSION_RE } from '../../src/core/request/parse-path.js';
import { originalKey, shardOf, tombstoneKey, variantPrefix } from '../../src/core/storage-keys.js';

const refusal = (p: string) => {
  try {
    parsePath(p);
    return null;
  } catch (e) {
    return { status: (e as HttpError).status, code: (e as HttpError).code, message: (e as HttpError).message };
  }
};

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

  it.each([
    ['acme', '../x'],
    ['acme', 'a/b'],
    ['../acme', 'x'],
    ['acme', '..'],
    ['acme', ''],
  ])('refuse %j %j', (t, id) => {
    expect(() => originalKey(t, id)).toThrow(HttpError);
  });
});

describe('URL grammar owned by parse-path', () => {
  it('tenant: 1-32 of a-z, 0-9 and "-", not starting with "-"', () => {
    for (const ok of ['a', 'acme', 'a-b', '0x', 'a'.repeat(32)]) expect(TENANT_RE.test(ok)).toBe(true);
    for (const bad of ['', '-a', 'A', 'a_b', 'a.b', 'a'.repeat(33)]) expect(TENANT_RE.test(bad)).toBe(false);
  });

  it('id: 1-128 of A-Za-z0-9._-, no leading ".", "_" or "-", no ".."', () => {
    for (const ok of ['a', 'U-42', 'a.b_c-d', 'x'.repeat(128)]) expect(isValidId(ok)).toBe(true);
    for (const bad of ['', '.a', '_a', '-a', 'a..b', 'a/b', 'a%2e', 'x'.repeat(129)]) expect(isValidId(bad)).toBe(false);
    expect(ID_RE.test('a..b')).toBe(true); // the regex alone allows "..": isValidId is the rule
  });

  it('version: 1-32 of A-Za-z0-9._-', () => {
    for (const ok of ['1', 'v2.0_rc-1', 'x'.repeat(32)]) expect(VERSION_RE.test(ok)).toBe(true);
    for (const bad of ['', 'a b', 'a/b', 'x'.repeat(33)]) expect(VERSION_RE.test(bad)).toBe(false);
  });

  it('refuses "%", "\\" and NUL in a raw path', () => {
    for (const bad of ['/a/%2e%2e', '/a/b\\c', '/a/b\u0000']) {
      expect(hasUnsafePathChars(bad)).toBe(true);
      expect(status(bad)).toBe(400);
    }
    expect(hasUnsafePathChars('/acme/u-42/128.webp')).toBe(false);
    expect(refusal('/a/%2e%2e')?.message).toBe('the path must not contain "%", "\\" or NUL: use /{tenant}/{id} or /{tenant}/{id}/{size}.{ext}');
    expect(() => assertSafePath('/_upload/acme/%2e%2e', 'PUT /_upload/{tenant}/{id}')).toThrow('the path must not contain "%", "\\" or NUL: use PUT /_upload/{tenant}/{id}');
    expect(() => assertSafePath('/_upload/acme/u-42', 'PUT /_upload/{tenant}/{id}')).not.toThrow();
  });

  it('paths: at most MAX_PATH_LENGTH (300) characters, else 414 PATH_TOO_LONG', () => {
    expect(MAX_PATH_LENGTH).toBe(300);
    // 300 characters: past the length check, refused for its 294-character id instead.
    expect(refusal(`/acme/${'a'.repeat(294)}`)).toMatchObject({ status: 400, code: 'INVALID_ID' });
    expect(refusal(`/acme/${'a'.repeat(295)}`)).toEqual({ status: 414, code: 'PATH_TOO_LONG', message: 'the path must be at most 300 characters' });
  });

  it('refusals say what is allowed', () => {
    expect(refusal('/-acme/u-42')?.message).toBe('tenant must be 1-32 characters of a-z, 0-9 and "-", not starting with "-"');
    for (const id of ['.a', '_a', '-a', 'a..b']) {
      expect(refusal(`/acme/${id}`)?.message).toBe('image id must be 1-128 characters of A-Z, a-z, 0-9, ".", "_" and "-", not starting with ".", "_" or "-", and without ".."');
    }
    expect(refusal('/acme/u-42/64.gif')).toMatchObject({ code: 'INVALID_PATH', message: expect.stringContaining('ext one of webp, jpeg, jpg, png, avif') });
    expect(refusal('/acme/u-42/64.avif')).toBeNull();
  });
});
