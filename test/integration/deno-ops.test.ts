/**
 * Metrics, the access log and /readyz on the real Deno host (the esbuild bundle under the deno
 * binary, on loopback), whose metrics come from text-registry.ts rather than prom-client.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDenoBundle, type DenoHost, startDenoHost } from '../support/deno-host.js';
import { dataDirWith } from '../support/data-dir.js';

const SAMPLES = new URL('../../samples/demo/', import.meta.url).pathname;
const METRICS_TOKEN = 'deno-metrics-token-not-a-secret';
// Tenant `limited`: 1 request/s over 60 s per client IP (60 in the test's minute).
const RATE_LIMITS_JSON = JSON.stringify({ tenants: { limited: { clientRps: 1, clientWindow: 60 } } });

describe('Deno host operations', () => {
  let bundle: Awaited<ReturnType<typeof buildDenoBundle>>;
  let host: DenoHost;
  let dataDir: string;

  beforeAll(async () => {
    bundle = await buildDenoBundle();
    dataDir = await dataDirWith('deno-ops', [{ tenant: 'demo', id: 'hopper', file: join(SAMPLES, 'hopper.jpg') }]);
    host = await startDenoHost({
      entry: bundle.entry,
      env: { DATA_DIR: dataDir, AVATAR_CONFIG_JSON: JSON.stringify({ tenants: { demo: {}, limited: {} } }), METRICS_TOKEN, ACCESS_LOG_CLIENT_IP: 'socket', RATE_LIMITS_JSON },
      writable: [dataDir],
    });
  }, 120_000);
  afterAll(async () => {
    await host?.stop();
    await bundle?.remove();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves /readyz once the codecs are warm, and counts requests and renders at /metrics', async () => {
    // Deno serves before its codecs are warm: /readyz says when it is ready.
    let ready: Response;
    while ((ready = await host.get('/readyz')).status !== 200) {
      expect(ready.status).toBe(503);
      expect((await ready.json()).checks.codecs).toBe('warming');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await ready.json()).toEqual({ ready: true, checks: { codecs: 'ok', store: 'ok', shutdown: 'no' } });

    const webp = { accept: 'image/webp' };
    expect((await host.get('/demo/hopper?w=48', webp)).headers.get('x-cache')).toBe('MISS');
    expect((await host.get('/demo/hopper?w=48&utm_campaign=x', webp)).headers.get('x-cache')).toBe('HIT');
    expect((await host.get('/metrics')).status).toBe(401);

    const res = await host.get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('avatar_http_requests_total{route="image",method="GET",status="200",cache="MISS",tenant="demo"} 1');
    expect(text).toContain('avatar_http_requests_total{route="image",method="GET",status="200",cache="HIT",tenant="demo"} 1');
    expect(text).toContain('avatar_render_stage_seconds_count{stage="decode"} 1');
    expect(text).toMatch(/^avatar_store_operation_seconds_count\{store="primary",op="get"\} [1-9]/m);

    // One JSON line per request on stdout.
    const lines = host
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const hit = lines.find((l) => l.url === '/demo/hopper?w=48&utm_campaign=x');
    expect(hit).toMatchObject({ route: 'image', status: 200, cache: 'HIT', tenant: 'demo', id: 'hopper', dropped: ['utm_campaign'], clientIp: '127.0.0.1' });
  }, 60_000);

  it('refuses a client past its tenant rate with 429 and Retry-After, and counts it at /metrics', async () => {
    expect(host.output()).toContain('rate limits: 100 req/s per client IP over 10 s (penalty 1 min), 600 renders/min per tenant; own limits for limited');
    // No original: each is a 404, counted all the same.
    const statuses = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const res = await host.get(`/limited/nobody-${i}?w=48`);
      await res.arrayBuffer();
      statuses.add(res.status);
    }
    expect([...statuses]).toEqual([404]);
    const over = await host.get('/limited/nobody?w=48');
    expect([over.status, over.headers.get('retry-after')]).toEqual([429, '60']);
    expect(await over.json()).toMatchObject({ code: 'RATE_LIMITED' });
    // demo, from the same address, is not limited by it.
    expect((await host.get('/demo/hopper?w=48', { accept: 'image/webp' })).status).toBe(200);
    const text = await (await host.get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` })).text();
    expect(text).toContain('avatar_rate_limited_total{scope="request"} 1');
    expect(text).toContain('avatar_rate_limited_total{scope="render"} 0');
  }, 60_000);
});
