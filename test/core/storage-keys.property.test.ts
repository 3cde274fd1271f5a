import { posix, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/core/errors.js';
import { originalKey, tenantPrefix, tombstoneKey, variantObjectKey, variantPrefix } from '../../src/core/storage-keys.js';
import type { Variant } from '../../src/core/variant.js';

// Fragments attackers use, mixed with valid characters, so the generator hits both sides often.
const evil = fc.constantFrom('..', '.', '/', '\\', '%2e', '%2f', '%5c', '%00', '\0', '\n', ' ', '~', ':', '?', '#', '*', '%', 'é', '\u202e', '\uff0e', 'a', 'z', '0', '-', '_', 'A');
const adversarial = fc.oneof(
  fc.array(evil, { maxLength: 12 }).map((a) => a.join('')),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.stringMatching(/^[a-z0-9-]{1,40}$/),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,140}$/),
);
// Near-valid pairs get their own share, so both outcomes (key, refusal) are common.
const tenantAndId = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(adversarial, adversarial) },
  { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,31}$/), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/)) },
  { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,31}$/), adversarial) },
);

/** A key must stay in `{kind}/{tenant}/`, normalize to itself, and resolve inside a store root. */
function assertContained(key: string, kind: string, tenant: string, id: string): void {
  expect(key.startsWith(`${kind}/${tenant}/`)).toBe(true);
  expect(posix.normalize(key)).toBe(key);
  expect(key).not.toMatch(/(^|\/)\.\.?(\/|$)|\\|%|\0|\/\//);
  const root = resolve('/srv/store');
  expect(resolve(root, key).startsWith(`${root}${sep}${kind}${sep}${tenant}${sep}`)).toBe(true);
  expect(key.split('/')[3]).toBe(id);
}

/** Either a contained key or an HttpError 400; anything else (another error, an escaping key) fails. */
function check(build: () => string, kind: string, tenant: string, id: string): 'key' | 'refused' {
  let key: string;
  try {
    key = build();
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    expect((e as HttpError).status).toBe(400);
    return 'refused';
  }
  assertContained(key, kind, tenant, id);
  return 'key';
}

describe('storage key derivation (property)', () => {
  it('never leaves {kind}/{tenant}/ whatever tenant and id are', () => {
    const seen = { key: 0, refused: 0 };
    fc.assert(
      fc.property(tenantAndId, ([tenant, id]) => {
        seen[check(() => originalKey(tenant, id), 'originals', tenant, id)]++;
        check(() => tombstoneKey(tenant, id), 'tombstones', tenant, id);
        check(() => variantPrefix(tenant, id), 'variants', tenant, id);
        const v: Variant = { tenant, id, width: 64, height: 64, fit: 'cover', format: 'webp', quality: 75, version: '', negotiated: false };
        check(() => variantObjectKey(v), 'variants', tenant, id);
        try {
          const p = tenantPrefix('originals', tenant);
          expect(p).toBe(`originals/${tenant}/`);
          expect(posix.normalize(p)).toBe(p);
        } catch (e) {
          expect(e).toBeInstanceOf(HttpError);
        }
      }),
      { numRuns: 3000 },
    );
    // The generator must exercise both outcomes, or the property proves little.
    // (Measured over 30 seeds at 5000 runs: 25-27% keys, the rest refusals; at 3000 that is ~750-820 keys.)
    expect(seen.key).toBeGreaterThan(400);
    expect(seen.refused).toBeGreaterThan(400);
  });

  it.each([
    ['acme', '..'],
    ['acme', '.'],
    ['acme', '../../etc/passwd'],
    ['acme', 'a/../../b'],
    ['acme', '%2e%2e'],
    ['acme', 'a%2fb'],
    ['acme', 'a\\b'],
    ['acme', 'a\0b'],
    ['acme', '.hidden'],
    ['acme', 'a..b'],
    ['..', 'x'],
    ['acme/..', 'x'],
    ['ACME', 'x'],
    ['a'.repeat(33), 'x'],
    ['acme', 'x'.repeat(129)],
    ['acme', '\uff0e\uff0e'],
    ['', 'x'],
    ['acme', ''],
  ])('refuses tenant %j id %j', (tenant, id) => {
    expect(() => originalKey(tenant, id)).toThrow(HttpError);
    expect(() => variantPrefix(tenant, id)).toThrow(HttpError);
    expect(() => tombstoneKey(tenant, id)).toThrow(HttpError);
  });

  it('accepts the longest valid tenant and id', () => {
    assertContained(originalKey('a'.repeat(32), 'B'.repeat(128)), 'originals', 'a'.repeat(32), 'B'.repeat(128));
  });
});
