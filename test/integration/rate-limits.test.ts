/**
 * RATE_LIMITS_JSON on the real Node host (node:http on 127.0.0.1, wired as main.ts wires it):
 * a client past its rate gets 429 with Retry-After, renders past the tenant's budget get a
 * cached neighbouring size or 503, and /metrics counts both.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { parseRateLimits } from '../../src/core/limits/rate-limits.js';
import { startNodeApp } from '../../src/hosts/node/create-node-app.js';
import { createNodeOps } from '../../src/hosts/node/node-ops.js';
import { createImageLimits } from '../../src/http/limited-image-route.js';
import { loadOpsSettings } from '../../src/observability/ops-settings.js';
import { countingRenderer } from '../support/node-host.js';

const METRICS_TOKEN = 'rate-limit-test-metrics-token';
// faces: 1 request/s over 60 s (so 60 in the test's minute), then a minute in the penalty box.
// demo: no client limit, 2 renders a minute.
const RATE_LIMITS = { tenants: { faces: { clientRps: 1, clientWindow: 60, penaltyMinutes: 1 }, demo: { clientRps: 0, rendersPerMinute: 2 } } };

describe('rate limits on the Node host', () => {
  let dataDir: string;
  let host: Awaited<ReturnType<typeof startNodeApp>>;
  const renders = countingRenderer();

  const get = (path: string, headers: Record<string, string> = {}) => fetch(host.url + path, { headers });
  const scrape = async () => {
    const text = await (await get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` })).text();
    const value = (scope: string) => Number(new RegExp(`^avatar_rate_limited_total\\{scope="${scope}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    return { request: value('request'), render: value('render') };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'avatar-edge-limits-'));
    const problems: string[] = [];
    const limits = parseRateLimits(JSON.stringify(RATE_LIMITS), problems);
    expect(problems).toEqual([]);
    const config = loadServiceConfig({ tenants: { demo: {}, faces: {} } });
    // ACCESS_LOG_CLIENT_IP unset: the limit keys on the socket's address, whatever headers say.
    const ops = createNodeOps({ env: {}, settings: loadOpsSettings({ METRICS_TOKEN, ACCESS_LOG: 'off' }), config, store: () => host.store, log: () => {} });
    host = await startNodeApp({
      config,
      dataDir,
      log: () => {},
      wrapRenderer: renders.wrap,
      wrapFetch: ops.wrapFetch,
      limits: createImageLimits({ limits, clientIp: ops.settings.clientIp, onRefused: ops.metrics.rateLimited }),
    });
  });
  afterAll(async () => {
    await host?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exports both refusal counters at 0 before anything is refused', async () => {
    expect(await scrape()).toEqual({ request: 0, render: 0 });
  });

  it('refuses a client past its rate with 429, Retry-After and JSON, and X-Forwarded-For does not get it out', async () => {
    const path = '/faces/group?w=64&h=64&fmt=webp';
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await get(path);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);

    const over = await get(path);
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('60');
    expect(over.headers.get('cache-control')).toBe('no-store');
    expect(await over.json()).toEqual({ code: 'RATE_LIMITED', message: 'too many requests from this address; retry in 60 s' });

    const spoofed = await get(path, { 'x-forwarded-for': '198.51.100.7' });
    expect(spoofed.status).toBe(429);
    await spoofed.arrayBuffer();
    // Only the limited tenant: the same address still gets demo's images.
    const other = await get('/demo/hopper?w=64&h=64&fmt=webp');
    expect(other.status).toBe(200);
    await other.arrayBuffer();
    expect((await scrape()).request).toBe(2);
  });

  it('over the render budget serves a cached neighbour, else 503 RENDER_BUDGET; hits go on', async () => {
    // Each size of the ladder is a render: the budget of 2 (the 64 px one above was the first).
    const first = await get('/demo/hopper?w=128&h=128&fmt=webp');
    expect([first.status, first.headers.get('x-cache')]).toEqual([200, 'MISS']);
    const bytes128 = new Uint8Array(await first.arrayBuffer());
    const before = renders.counter.renders;

    // 96 px: a render refused; 128 px is the next size up and is cached.
    const neighbour = await get('/demo/hopper?w=96&h=96&fmt=webp');
    expect(neighbour.status).toBe(200);
    expect(Object.fromEntries(neighbour.headers)).toMatchObject({
      'x-avatar-fallback': 'demo/hopper/128x128-cover-q75.webp',
      'x-variant': 'demo/hopper/96x96-cover-q75.webp',
      'cache-control': 'public, max-age=10',
      'content-type': 'image/webp',
    });
    expect(new Uint8Array(await neighbour.arrayBuffer())).toEqual(bytes128);

    // 512 px: neither 768 nor 384 is cached.
    const refused = await get('/demo/hopper?w=512&h=512&fmt=webp');
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(await refused.json()).toEqual({ code: 'RENDER_BUDGET', message: "tenant 'demo' is over its render budget (2 per minute); retry later" });
    expect(renders.counter.renders).toBe(before);

    // What is cached is still served as it is.
    const hit = await get('/demo/hopper?w=128&h=128&fmt=webp');
    expect([hit.status, hit.headers.get('x-cache'), hit.headers.has('x-avatar-fallback')]).toEqual([200, 'HIT', false]);
    await hit.arrayBuffer();
    expect(await scrape()).toEqual({ request: 2, render: 2 });
  });
});
