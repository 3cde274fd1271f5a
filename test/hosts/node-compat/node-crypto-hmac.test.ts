import { describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../../src/core/auth/create-authorizer.js';
import { hmacSha256Base64url } from '../../../src/core/auth/hmac.js';
import { signUrl } from '../../../src/core/auth/sign-url.js';
import { HttpError } from '../../../src/core/errors.js';
import { resolveImageRequest } from '../../../src/core/delivery/image-handler.js';
import { nodeHmacSha256Base64url } from '../../../src/hosts/node-compat/node-crypto-hmac.js';
import { acme, config, NOW } from '../../core/auth/auth-fixtures.js';

describe('nodeHmacSha256Base64url (signed URLs on the Node and Deno hosts)', () => {
  it('gives the same signature as the portable crypto.subtle one, synchronously', async () => {
    const cases: Array<[string, string]> = [
      ['bench-signing-key-0123456789abcdef', '/demo/hopper?fmt=webp&fit=cover&h=128&q=75&w=128&exp=1767225600'],
      ['sécret-🔑-at-least-16', '/démo/x?v=ä&exp=1'],
      ['\uD800lone-surrogate-key', 'x\uDC00y'],
      ['k'.repeat(200), 'p'.repeat(5000)],
    ];
    for (const [secret, payload] of cases) {
      const sync = nodeHmacSha256Base64url(secret, payload);
      expect(typeof sync).toBe('string');
      expect(sync).toBe(await hmacSha256Base64url(secret, payload));
      expect(sync).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });
});

describe("the Node host's authorizer (createAuthorizer with nodeHmacSha256Base64url)", () => {
  const authorize = createAuthorizer({ hmac: nodeHmacSha256Base64url });
  const loader = { load: () => Promise.reject(new Error('not used')), facts: async () => ({ alpha: false, animated: false }) };
  const outcome = async (url: string, now = NOW) => {
    try {
      await resolveImageRequest(new Request(`http://localhost${url}`), { config, loader, authorize, clock: { now: () => now } });
      return 'ok';
    } catch (e) {
      if (e instanceof HttpError) return e.code;
      throw e;
    }
  };

  it('accepts what signUrl signs and answers each failure with its own code', async () => {
    const { url } = await signUrl({ tenant: acme, id: 'u-42', params: { w: 128, fmt: 'webp' }, kid: 'k1', exp: NOW / 1000 + 60 });
    expect(await outcome(url)).toBe('ok');
    expect(await outcome(url.replace('w=128', 'w=256'))).toBe('BAD_SIGNATURE');
    expect(await outcome(url.replace(/sig=[^&]+/, `sig=${'A'.repeat(43)}`))).toBe('BAD_SIGNATURE');
    expect(await outcome(url.replace('kid=k1', 'kid=k2'))).toBe('BAD_SIGNATURE');
    expect(await outcome(url.replace('kid=k1', 'kid=nope'))).toBe('UNKNOWN_KEY');
    expect(await outcome(url, NOW + 120_000)).toBe('EXPIRED');
    expect(await outcome('/acme/u-42?w=128')).toBe('SIGNATURE_REQUIRED');
  });

  it('the injected HMAC is the one that decides', async () => {
    const { url } = await signUrl({ tenant: acme, id: 'u-42', params: { w: 128 }, kid: 'k1', exp: NOW / 1000 + 60 });
    const wrong = createAuthorizer({ hmac: () => 'A'.repeat(43) });
    const run = resolveImageRequest(new Request(`http://localhost${url}`), { config, loader, authorize: wrong, clock: { now: () => NOW } });
    await expect(run).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });
});
