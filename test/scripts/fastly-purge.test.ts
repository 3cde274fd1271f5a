import { afterEach, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../scripts/admin/cli.js';
import { checkApiBase, createFastlyApiPurger } from '../../scripts/admin/fastly-api-purger.js';
import { startFakeFastlyApi } from './fake-fastly-api.js';

const API_TOKEN = 'fastly-test-token';

function cli(api: { url: string }, argv: string[], env: Record<string, string> = { FASTLY_API_TOKEN: API_TOKEN }) {
  const out: string[] = [];
  const err: string[] = [];
  const run = runAdminCli([...argv, '--api-base', api.url, '--rate', '100'], { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return run.then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

let api: Awaited<ReturnType<typeof startFakeFastlyApi>> | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('fastly-purge (against a fake Fastly API on loopback)', () => {
  it('purges in batches of 256 keys through the Surrogate-Key header, with purge ids and progress', async () => {
    api = await startFakeFastlyApi();
    const keys = Array.from({ length: 600 }, (_, i) => `i:acme/u-${i}`);
    const r = await cli(api, ['fastly-purge', ...keys, '--service', 'SU1Z0isxPaozGVKXdv0eY', '--soft']);
    expect(r.code).toBe(0);
    expect(api.calls.map((c) => c.keys.length)).toEqual([256, 256, 88]);
    expect(api.calls.every((c) => c.method === 'POST' && c.path === '/service/SU1Z0isxPaozGVKXdv0eY/purge' && c.fastlyKey === API_TOKEN && c.soft)).toBe(true);
    expect(api.calls.flatMap((c) => c.keys)).toEqual(keys);
    expect(r.out).toContain('purged i:acme/u-0 (purge id 1-0-purge)');
    expect(r.out).toContain('soft-purged 600/600 keys on service SU1Z0isxPaozGVKXdv0eY in 3 API calls');
    expect(r.err.split('\n')).toEqual(['fastly-purge: 1/3 batches (256/600 keys)', 'fastly-purge: 2/3 batches (512/600 keys)', 'fastly-purge: 3/3 batches (600/600 keys)']);
    expect(r.out + r.err).not.toContain(API_TOKEN);
  });

  it('retries 429 (honouring Retry-After) and 5xx, then succeeds', async () => {
    api = await startFakeFastlyApi((_, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '0' } } : n === 2 ? { status: 503, headers: { 'retry-after': '0' } } : null));
    const r = await cli(api, ['fastly-purge', 't:acme', '--service', 'abc123']);
    expect(r.code).toBe(0);
    expect(api.calls).toHaveLength(3);
    expect(api.calls[2]!.soft).toBe(false);
  }, 20_000);

  it('does not retry 401/403 and exits 1 with the reason', async () => {
    api = await startFakeFastlyApi(() => ({ status: 403, body: '{"msg":"Provided credentials are missing or invalid"}' }));
    const r = await cli(api, ['fastly-purge', 't:acme', 'i:acme/u-1', '--service', 'abc123']);
    expect(r.code).toBe(1);
    expect(api.calls).toHaveLength(1);
    expect(r.out).toContain('FAILED t:acme: HTTP 403');
  });

  it('fails keys missing from the reply', async () => {
    api = await startFakeFastlyApi((c) => ({ status: 200, body: JSON.stringify({ [c.keys[0]!]: 'id-1' }) }));
    const r = await cli(api, ['fastly-purge', 't:a', 't:b', '--service', 'abc123', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({
      ok: false,
      results: [
        { key: 't:a', ok: true, purgeId: 'id-1' },
        { key: 't:b', ok: false },
      ],
    });
  });

  it('refuses usage errors before calling anything', async () => {
    api = await startFakeFastlyApi();
    expect((await cli(api, ['fastly-purge', 't:a'])).code).toBe(2); // no --service
    expect((await cli(api, ['fastly-purge', 't:a', '--service', 'abc'], {})).code).toBe(2); // no token
    expect((await cli(api, ['fastly-purge', 't:a', '--service', '../x'])).code).toBe(2);
    expect(await runAdminCli(['fastly-purge', 't:a', '--service', 'abc', '--api-base', 'http://api.example.com'], { out: () => {}, err: () => {}, env: { FASTLY_API_TOKEN: 'x' } })).toBe(2);
    expect(api.calls).toHaveLength(0);
    expect(() => checkApiBase('http://10.0.0.1')).toThrow(/https/);
    expect(checkApiBase('https://api.fastly.com/')).toBe('https://api.fastly.com');
  });
});

describe('fastly API purger rate limit', () => {
  it('spaces requests to the configured rate and waits out Retry-After', async () => {
    let clock = 1_000_000;
    const sleeps: number[] = [];
    let n = 0;
    const fetchStub = (async () => {
      n++;
      if (n === 2) return new Response('{}', { status: 429, headers: { 'retry-after': '7' } });
      return new Response(JSON.stringify({ 't:a': 'p' }), { status: 200 });
    }) as typeof fetch;
    const purger = createFastlyApiPurger({
      serviceId: 'abc',
      apiToken: 't',
      requestsPerSecond: 2,
      fetch: fetchStub,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    await purger.purge(['t:a'], false); // first: no wait
    await purger.purge(['t:a'], false); // 429 → waits 7 s, then its rate slot
    expect(sleeps[0]).toBe(500);
    expect(sleeps).toContain(7_000);
    expect(purger.requests()).toBe(3);
  });

  it('gives up rather than wait more than a minute', async () => {
    const fetchStub = (async () => new Response('{}', { status: 429, headers: { 'retry-after': '3600' } })) as typeof fetch;
    const purger = createFastlyApiPurger({ serviceId: 'abc', apiToken: 't', fetch: fetchStub, sleep: async () => {} });
    expect(await purger.purge(['t:a'], false)).toMatchObject([{ key: 't:a', ok: false, error: expect.stringContaining('giving up') }]);
  });
});
