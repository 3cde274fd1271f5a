import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUrl } from '../../src/core/auth/sign-url.js';
import { startFakeRendererApp } from '../support/fake-renderer-app.js';

const KEYS = { k1: 'fuzz-secret-k1-0000000', k2: 'fuzz-secret-k2-0000000' };
const TENANTS = {
  open: {},
  acme: { requireSignature: true, keys: KEYS },
  guarded: { allowedReferers: ['example.com', '*.example.net'], allowEmptyReferer: false },
};

// Path segments: valid names, near misses, and every traversal / encoding trick in the book.
const evilSegment = fc.constantFrom(
  '..',
  '.',
  '%2e%2e',
  '%2E.',
  '.%2e',
  '%2f',
  'a%2fb',
  '%5c',
  '\\',
  '%00',
  '%',
  '%zz',
  '%%',
  '~',
  '',
  ';',
  '..;',
  '%c0%ae',
  '\uff0e\uff0e',
  'é',
  '\u202e',
  '_admin',
  '_render',
  'healthz',
  '*',
  '?',
  '#',
);
const randomSegment = fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[A-Za-z0-9._-]{100,140}$/));
const seg = (valid: string[]) => fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...valid) }, { weight: 2, arbitrary: evilSegment }, { weight: 1, arbitrary: randomSegment });
const structuredPath = fc
  .tuple(seg(['open', 'acme', 'guarded', 'nope']), seg(['hopper', 'u-1', 'missing']), fc.option(seg(['128.webp', '64.jpg', '0.png', '99999.png', '12.gif', 'x.webp', '64.WEBP']), { freq: 2 }))
  .map(([t, i, f]) => `/${t}/${i}${f === null ? '' : '/' + f}`);
const path = fc.oneof(
  { weight: 4, arbitrary: structuredPath },
  { weight: 1, arbitrary: fc.array(fc.oneof(evilSegment, randomSegment, seg(['open', 'hopper'])), { maxLength: 5 }).map((s) => '/' + s.join('/')) },
);

const paramName = fc.oneof(
  fc.constantFrom('w', 'h', 'fit', 'fmt', 'q', 'dpr', 'v', 'exp', 'kid', 'sig', 'W', 'FMT', 'Sig', 'utm_source', 'cb', '', '%77', 'w[]', '__proto__', 'constructor'),
  fc.string({ maxLength: 6 }),
);
const paramValue = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1',
    '64',
    '128',
    '287',
    '4096',
    '4097',
    '1e3',
    '0x40',
    '1.5',
    'NaN',
    'Infinity',
    'cover',
    'INSIDE',
    'webp',
    'jpg',
    'gif',
    'auto',
    'k1',
    'k2',
    'k3',
    '1767225600',
    '99999999999',
    '%',
    '%zz',
    '%00',
    '\\..',
    '../..',
    'toString',
  ),
  fc.string({ maxLength: 20 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
);
const query = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.tuple(paramName, paramValue), { maxLength: 5 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) }, // raw, unencoded garbage
  { weight: 1, arbitrary: fc.integer({ min: 900, max: 3000 }).map((n) => 'w=1&junk=' + 'x'.repeat(n)) }, // around maxQueryLength
);

// Header values: anything a client can put on the wire (printable Latin-1 and tab), some huge.
const headerValue = fc.oneof(
  fc.constantFrom(
    '',
    'null',
    '*/*',
    'image/webp,*/*',
    'image/png;q=0',
    'https://example.com/p',
    'https://a.example.net/',
    'https://evil.com/',
    'http://example.com.evil.com/',
    'javascript:1',
    'file:///etc/passwd',
    '"abc"',
    '*',
    'W/"x", "y"',
  ),
  fc.string({ unit: fc.constantFrom(...'\t !"#%&\'()*,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~éÿ'.split('')), maxLength: 40 }),
  fc.integer({ min: 4000, max: 9000 }).map((n) => 'https://example.com/' + 'a'.repeat(n)),
);
const headers = fc.dictionary(fc.constantFrom('accept', 'referer', 'origin', 'if-none-match', 'authorization', 'range', 'x-forwarded-host', 'host'), headerValue, { maxKeys: 4 });
const method = fc.oneof(
  { weight: 12, arbitrary: fc.constant('GET') },
  { weight: 3, arbitrary: fc.constant('HEAD') },
  { weight: 1, arbitrary: fc.constantFrom('POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH') },
);

describe('the full router under random and adversarial requests', () => {
  let env: Awaited<ReturnType<typeof startFakeRendererApp>>;
  beforeAll(async () => {
    env = await startFakeRendererApp({ tenants: TENANTS }, [
      ['open', 'hopper'],
      ['acme', 'hopper'],
      ['guarded', 'hopper'],
    ]);
  });
  afterAll(() => env?.stop());

  const tally = new Map<number | 'skipped', number>();
  const count = (k: number | 'skipped') => tally.set(k, (tally.get(k) ?? 0) + 1);

  /** Sends one request; asserts it is a 2xx/3xx/4xx and that every 4xx is the JSON error shape. */
  async function send(url: string, init: RequestInit): Promise<Response | null> {
    let req: Request;
    try {
      req = new Request(url, init);
    } catch {
      count('skipped');
      return null; // not expressible as a Request: no host would ever hand it to the app
    }
    const res = await env.app.fetch(req);
    count(res.status);
    expect(res.status, `${init.method} ${url} → ${res.status}`).toBeGreaterThanOrEqual(200);
    expect(res.status, `${init.method} ${url} → ${res.status}`).toBeLessThan(500);
    if (res.status >= 400) {
      expect(res.headers.get('cache-control')).toBe('no-store');
      if (init.method !== 'HEAD') expect(JSON.parse(await res.text())).toEqual({ code: expect.any(String), message: expect.any(String) });
    } else await res.arrayBuffer();
    return res;
  }

  it('never answers 5xx (paths, queries, headers, methods)', async () => {
    await fc.assert(
      fc.asyncProperty(path, query, headers, method, async (p, q, h, m) => {
        await send(`http://localhost${p}${q ? '?' + q : ''}`, { method: m, headers: h });
      }),
      { numRuns: 4000 },
    );
    expect(env.errors).toEqual([]);
    // The generators must reach every stage, or "no 5xx" proves little.
    for (const status of [200, 400, 403, 404, 405, 414, 431]) expect(tally.get(status) ?? 0, `status ${status} seen`).toBeGreaterThan(0);
    expect(tally.get('skipped') ?? 0).toBeLessThan(200);
  });

  it('a signature never authorizes anything but the variant it was made for', async () => {
    const acme = env.config.tenants.get('acme')!;
    const exp = Math.floor(Date.now() / 1000) + 3600;
    let served = 0;
    const signed = fc.record({
      w: fc.constantFrom(32, 64, 100, 128),
      fmt: fc.constantFrom('webp', 'jpeg', 'png', 'auto'),
      kid: fc.constantFrom('k1', 'k2'),
    });
    // Mutations an attacker would try on a URL they were given.
    const mutation = fc.oneof(
      fc.constant((u: string) => u),
      fc.tuple(fc.constantFrom('w', 'h', 'q', 'fit', 'fmt', 'v', 'dpr'), paramValue).map(
        ([k, v]) =>
          (u: string) =>
            `${u}&${k}=${encodeURIComponent(v)}`,
      ),
      fc.tuple(fc.constantFrom('w', 'h', 'q', 'fit', 'fmt'), paramValue).map(
        ([k, v]) =>
          (u: string) =>
            u.replace(new RegExp(`([?&])${k}=[^&]*`), `$1${k}=${encodeURIComponent(v)}`),
      ),
      fc.constantFrom('/acme/missing', '/open/hopper', '/acme/hopper/256.webp').map((p) => (u: string) => u.replace(/^\/acme\/hopper/, p)),
      fc.constantFrom('k1', 'k2', 'K1', 'k3', '').map((kid) => (u: string) => u.replace(/kid=[^&]*/, `kid=${kid}`)),
      fc.constantFrom('1', String(exp + 1), String(exp - 1), `0${exp}`, '').map((e) => (u: string) => u.replace(/exp=[^&]*/, `exp=${e}`)),
      fc.nat({ max: 42 }).map((i) => (u: string) => u.replace(/sig=([\w-]{43})/, (_, s: string) => `sig=${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`)),
      fc.constant((u: string) => `${u}&utm_source=x&cb=1`),
    );
    await fc.assert(
      fc.asyncProperty(signed, mutation, headers, async (s, mutate, h) => {
        const r = await signUrl({ tenant: acme, id: 'hopper', params: { w: s.w, fmt: s.fmt }, kid: s.kid, exp });
        const res = await send(`http://localhost${mutate(r.url)}`, { headers: h });
        if (res && res.status === 200 && new URL(`http://x${mutate(r.url)}`).pathname.startsWith('/acme/')) {
          served++;
          const got = res.headers.get('x-variant')!;
          const f = r.variant.format;
          const expected = `acme/hopper/${r.variant.width}x${r.variant.height}-${r.variant.fit}-q`;
          expect(got.startsWith(expected), `${mutate(r.url)} served ${got}`).toBe(true);
          if (!r.variant.negotiated) expect(got.endsWith(`.${f}`)).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
    expect(env.errors).toEqual([]);
    expect(served).toBeGreaterThan(100);
    expect(tally.get(403) ?? 0).toBeGreaterThan(100);
  });
});
