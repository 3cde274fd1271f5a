import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signUrl } from '../../../src/core/auth/sign-url.js';
import { signingPayload } from '../../../src/core/auth/signing-payload.js';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { acme, NOW, outcome } from './auth-fixtures.js';

const EXP = NOW / 1000 + 3600;
const sign = (params: Record<string, string | number>, kid = 'k1', exp = EXP) => signUrl({ tenant: acme, id: 'u-42', params, kid, exp });

describe('the test vector in docs/signing.md', () => {
  const tenant = loadServiceConfig({ tenants: { acme: { requireSignature: true, keys: { k1: 'test-vector-secret-0123456789' } } } }).tenants.get('acme')!;
  const PAYLOAD = '/acme/u-42?fmt=webp&fit=cover&h=128&q=85&w=128&exp=1767225600';
  const SIG = 'hfn2mbgpc2nrbwuup-b0Ozyer8xods_XoncQg7SsgIg';

  it('signs exactly as documented', async () => {
    const r = await signUrl({ tenant, id: 'u-42', params: { w: 100, h: 100, fmt: 'WEBP', q: 80 }, kid: 'k1', exp: 1767225600, base: 'https://img.example.com' });
    expect(r.payload).toBe(PAYLOAD);
    expect(r.sig).toBe(SIG);
    expect(r.url).toBe(`https://img.example.com${PAYLOAD}&kid=k1&sig=${SIG}`);
    expect(r.templateUrl).toBe(`https://img.example.com/acme/u-42/128.webp?fit=cover&q=85&exp=1767225600&kid=k1&sig=${SIG}`);
  });

  it('is plain HMAC-SHA256 → base64url without padding (what another language would compute)', () => {
    const mac = createHmac('sha256', 'test-vector-secret-0123456789').update(PAYLOAD, 'utf8').digest('base64url');
    expect(mac).toBe(SIG);
  });
});

describe('signed URLs', () => {
  it('verify in both URL forms with one signature', async () => {
    const r = await sign({ w: 128, h: 128, fmt: 'webp' });
    expect(r.templateUrl).toMatch(/^\/acme\/u-42\/128\.webp\?fit=cover&q=75&exp=\d+&kid=k1&sig=[\w-]{43}$/);
    expect(await outcome(r.url)).toBe('ok');
    expect(await outcome(r.templateUrl!)).toBe('ok');
    // The template form canonicalizes to the same variant, so the query-form payload is the same.
    expect(await outcome(`/acme/u-42/128.jpg?fit=cover&q=75&exp=${EXP}&kid=k1&sig=${r.sig}`)).toBe('BAD_SIGNATURE');
  });

  it('survive junk params, reordering, case and unsnapped values that canonicalize the same', async () => {
    const r = await sign({ w: 128, h: 128, fmt: 'webp' });
    const q = `exp=${EXP}&kid=k1&sig=${r.sig}`;
    expect(await outcome(`/acme/u-42?${q}&W=128&utm_source=mail&fmt=WEBP&h=120&fbclid=x&q=74&fit=cover&_=123`)).toBe('ok');
    expect(await outcome(`/acme/u-42?w=64&dpr=2&h=60&fmt=webp&${q}`)).toBe('ok');
    expect(await outcome(`/acme/u-42/100.webp?${q}&cb=9`)).toBe('ok');
  });

  it('with a negotiated format serve every Accept', async () => {
    const r = await sign({ w: 96 });
    expect(r.url).not.toContain('fmt=');
    expect(r.templateUrl).toBeNull();
    for (const accept of ['image/webp,*/*', '*/*', 'image/png']) expect(await outcome(r.url, { accept })).toBe('ok');
    expect(await outcome(`${r.url}&fmt=auto`)).toBe('ok');
    expect(await outcome(`${r.url}&fmt=webp`)).toBe('BAD_SIGNATURE');
  });

  it('cover every parameter: changing any of them breaks the signature', async () => {
    const r = await sign({ w: 128, h: 128, fit: 'cover', fmt: 'webp', q: 75, v: '3' });
    const auth = `exp=${EXP}&kid=k1&sig=${r.sig}`;
    expect(await outcome(`/acme/u-42?fmt=webp&fit=cover&h=128&q=75&v=3&w=128&${auth}`)).toBe('ok');
    for (const changed of [
      'fmt=jpeg&fit=cover&h=128&q=75&v=3&w=128',
      'fmt=webp&fit=contain&h=128&q=75&v=3&w=128',
      'fmt=webp&fit=cover&h=256&q=75&v=3&w=128',
      'fmt=webp&fit=cover&h=128&q=95&v=3&w=128',
      'fmt=webp&fit=cover&h=128&q=75&v=4&w=128',
      'fmt=webp&fit=cover&h=128&q=75&w=128',
      'fmt=webp&fit=cover&h=128&q=75&v=3&w=256',
    ]) {
      expect(await outcome(`/acme/u-42?${changed}&${auth}`), changed).toBe('BAD_SIGNATURE');
    }
    expect(await outcome(`/acme/u-43?fmt=webp&fit=cover&h=128&q=75&v=3&w=128&${auth}`)).toBe('BAD_SIGNATURE');
    expect(await outcome(`/open/u-42?fmt=webp&fit=cover&h=128&q=75&v=3&w=128&${auth}`)).toBe('ok'); // unsigned tenant ignores them
  });

  it('answer each failure with its own code', async () => {
    const r = await sign({ w: 128, h: 128, fmt: 'webp' });
    const base = '/acme/u-42?fmt=webp&fit=cover&h=128&q=75&w=128';
    const flipped = (r.sig[0] === 'A' ? 'B' : 'A') + r.sig.slice(1);
    expect(await outcome(base)).toBe('SIGNATURE_REQUIRED');
    expect(await outcome(`${base}&exp=${EXP}&kid=k1`)).toBe('SIGNATURE_REQUIRED');
    expect(await outcome(`${base}&exp=${EXP}&sig=${r.sig}`)).toBe('SIGNATURE_REQUIRED');
    expect(await outcome(`${base}&exp=&kid=k1&sig=${r.sig}`)).toBe('SIGNATURE_REQUIRED');
    expect(await outcome(`${base}&exp=${EXP}&kid=k1&sig=${flipped}`)).toBe('BAD_SIGNATURE');
    expect(await outcome(`${base}&exp=${EXP}&kid=k1&sig=${r.sig}A`)).toBe('BAD_SIGNATURE');
    expect(await outcome(`${base}&exp=${EXP}&kid=k1&sig=${r.sig}%3D`)).toBe('BAD_SIGNATURE'); // padding is not accepted
    expect(await outcome(`${base}&exp=${EXP + 1}&kid=k1&sig=${r.sig}`)).toBe('BAD_SIGNATURE');
    expect(await outcome(`${base}&exp=0${EXP}&kid=k1&sig=${r.sig}`)).toBe('BAD_SIGNATURE');
    expect(await outcome(`${base}&exp=${EXP}&kid=k2&sig=${r.sig}`)).toBe('BAD_SIGNATURE');
    for (const kid of ['k3', 'K1', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(await outcome(`${base}&exp=${EXP}&kid=${kid}&sig=${r.sig}`), kid).toBe('UNKNOWN_KEY');
    }
    expect(await outcome(r.url, {}, EXP * 1000)).toBe('ok'); // exp is the last valid second
    expect(await outcome(r.url, {}, (EXP + 1) * 1000)).toBe('EXPIRED');
    // A forged URL never learns it is "merely expired".
    expect(await outcome(`${base}&exp=1000&kid=k1&sig=${r.sig}`)).toBe('BAD_SIGNATURE');
  });

  it('rotate: every configured key verifies its own URLs', async () => {
    const a = await sign({ w: 64 }, 'k1');
    const b = await sign({ w: 64 }, 'k2');
    expect(a.sig).not.toBe(b.sig);
    expect(await outcome(a.url)).toBe('ok');
    expect(await outcome(b.url)).toBe('ok');
  });

  it('error messages give nothing away', async () => {
    const r = await sign({ w: 128, h: 128, fmt: 'webp' });
    const res = await outcome(`${r.url.replace(/sig=./, 'sig=_')}`);
    expect(res).toBe('BAD_SIGNATURE');
    const { badSignature, unknownKey } = await import('../../../src/core/auth/auth-errors.js');
    for (const e of [badSignature(), unknownKey()]) {
      expect(e.message).not.toMatch(/k1|k2|acme|exp=|[\w-]{43}|\d{10}/);
    }
  });

  it('refuses to sign what the tenant would refuse, and bad keys or expiries', async () => {
    await expect(sign({ w: 9000 })).rejects.toMatchObject({ status: 400, code: 'INVALID_PARAMETER' });
    await expect(sign({ fmt: 'gif' })).rejects.toMatchObject({ status: 400 });
    await expect(signUrl({ tenant: acme, id: '../x', kid: 'k1', exp: EXP })).rejects.toMatchObject({ status: 400 });
    await expect(sign({}, 'nope')).rejects.toThrow(RangeError);
    await expect(sign({}, 'constructor')).rejects.toThrow(RangeError);
    await expect(sign({}, 'k1', 1.5)).rejects.toThrow(RangeError);
    const viaTtl = await signUrl({ tenant: acme, id: 'u-42', kid: 'k1', ttl: 60, now: NOW });
    expect(viaTtl.exp).toBe(NOW / 1000 + 60);
    expect(signingPayload(viaTtl.variant, viaTtl.exp)).toBe(viaTtl.payload);
  });

  it('property: whatever the app asks for, signUrl returns canonical URLs that verify, and any other sig fails', async () => {
    const dim = fc.option(fc.integer({ min: 1, max: 1500 }), { nil: undefined });
    const params = fc.record(
      {
        w: dim,
        h: dim,
        fit: fc.constantFrom('cover', 'contain', 'inside', 'COVER'),
        fmt: fc.constantFrom('auto', 'webp', 'jpeg', 'jpg', 'png'),
        q: fc.integer({ min: 1, max: 100 }),
        dpr: fc.constantFrom('1', '1.5', '2', '3', '4'),
        v: fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(params, fc.constantFrom('k1', 'k2'), fc.nat({ max: 42 }), async (p, kid, pos) => {
        const clean = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
        const r = await sign(clean, kid);
        expect(await outcome(r.url, { accept: 'image/webp' })).toBe('ok');
        if (r.templateUrl) expect(await outcome(r.templateUrl)).toBe('ok');
        const c = r.sig[pos]!;
        const other = r.sig.slice(0, pos) + (c === 'x' ? 'y' : 'x') + r.sig.slice(pos + 1);
        expect(await outcome(r.url.replace(`sig=${r.sig}`, `sig=${other}`))).toBe('BAD_SIGNATURE');
      }),
      { numRuns: 300 },
    );
  });
});
