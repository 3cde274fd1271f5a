/**
 * /metrics, /readyz and the access log on the real Node host (node:http on 127.0.0.1), after a
 * scripted set of requests: the counts a scrape shows are the requests the test made.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import type { Renderer } from '../../src/core/ports.js';
import { startNodeApp } from '../../src/hosts/node/create-node-app.js';
import { createNodeOps } from '../../src/hosts/node/node-ops.js';
import type { AccessLogRecord } from '../../src/observability/access-log.js';
import { loadOpsSettings } from '../../src/observability/ops-settings.js';
import { createFsStore } from '../../src/storage/fs-store.js';

const METRICS_TOKEN = 'metrics-test-token-not-a-secret';
const ADMIN_TOKEN = 'metrics-test-admin-token-not-a-secret';
const WEBP = { accept: 'image/webp' };

/** Holds renders of one width until released, to make two requests meet on one miss. */
function gate(width: number) {
  let entered!: () => void;
  let release!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const open = new Promise<void>((r) => (release = r));
  const wrap = (r: Renderer): Renderer => ({
    render: async (src, v) => {
      if (v.width === width) {
        entered();
        await open;
      }
      return r.render(src, v);
    },
  });
  return { inside, release, wrap };
}

function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('operations on the Node host', () => {
  let dataDir: string;
  let host: Awaited<ReturnType<typeof startNodeApp>>;
  let ops: ReturnType<typeof createNodeOps>;
  let metricsListener: Awaited<ReturnType<typeof ops.startMetricsListener>>;
  const lines: AccessLogRecord[] = [];
  const held = gate(32);

  const scrape = async () => {
    const res = await fetch(`${host.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    return samples(await res.text());
  };
  const req = (labels: string) => `avatar_http_requests_total{${labels}}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'avatar-edge-metrics-'));
    const config = loadServiceConfig({ tenants: { demo: {} }, admin: { tokens: { ops: ADMIN_TOKEN } } });
    const settings = loadOpsSettings({ METRICS_TOKEN, ACCESS_LOG_CLIENT_IP: 'socket' });
    ops = createNodeOps({ env: {}, settings, config, store: () => store, log: () => {}, writeLine: (l) => lines.push(JSON.parse(l) as AccessLogRecord) });
    const store = ops.wrapStore('primary', createFsStore(dataDir));
    host = await startNodeApp({ config, store, log: () => {}, wrapRenderer: (r) => ops.wrapRenderer(held.wrap(r)), wrapFetch: ops.wrapFetch, render: { metrics: ops.metrics.renderScheduler } });
    metricsListener = await createNodeOps({ env: {}, settings: { ...settings, metricsAddr: { host: '127.0.0.1', port: 0 } }, config, store: () => store, log: () => {} }).startMetricsListener();
  });
  afterAll(async () => {
    await metricsListener?.close();
    await host?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('counts requests by route, status, cache state and tenant, renders per stage, and store operations', async () => {
    const before = await scrape();
    expect(before.get('avatar_rate_limited_total{scope="request"}')).toBe(0);

    expect((await fetch(`${host.url}/demo/hopper?w=64`, { headers: WEBP })).headers.get('x-cache')).toBe('MISS');
    expect((await fetch(`${host.url}/demo/hopper?w=64`, { headers: WEBP })).headers.get('x-cache')).toBe('HIT');
    const dropped = await fetch(`${host.url}/demo/hopper?w=64&utm_source=mail&cb=123`, { headers: WEBP });
    const droppedBytes = (await dropped.arrayBuffer()).byteLength;
    expect(dropped.headers.get('x-cache')).toBe('HIT');
    expect((await fetch(`${host.url}/nobody/hopper?w=64`)).status).toBe(404);
    expect((await fetch(`${host.url}/demo/no-such-image?w=64`, { headers: WEBP })).status).toBe(404);

    // Two requests for one new variant: the second waits for the first one's render.
    const first = fetch(`${host.url}/demo/hopper?w=32`, { headers: WEBP });
    await held.inside;
    const second = fetch(`${host.url}/demo/hopper?w=32`, { headers: WEBP });
    // Both in flight (plus the scrape itself): the second has joined the first's load.
    while ((await scrape()).get('avatar_http_requests_in_flight') !== 3) await new Promise((r) => setTimeout(r, 20));
    held.release();
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.headers.get('server-timing')).toMatch(/coalesced/);

    const s = await scrape();
    const image = (status: number, cache: string, tenant = 'demo') => s.get(req(`route="image",method="GET",status="${status}",cache="${cache}",tenant="${tenant}"`));
    expect(image(200, 'MISS')).toBe(2);
    expect(image(200, 'HIT')).toBe(2);
    expect(image(200, 'COALESCED')).toBe(1);
    expect(image(404, 'NONE', '')).toBe(1);
    expect(image(404, 'NONE')).toBe(1);
    expect(s.get('avatar_http_request_duration_seconds_count{route="image",cache="HIT"}')).toBe(2);
    // Two renders (w=64, w=32), each with its three stages.
    for (const stage of ['decode', 'resize', 'encode']) expect(s.get(`avatar_render_stage_seconds_count{stage="${stage}"}`)).toBe(2);
    expect(s.get('avatar_renders_total{outcome="ok"}')).toBe(2);
    expect(s.get('avatar_store_operation_seconds_count{store="primary",op="get"}')).toBeGreaterThanOrEqual(4);
    expect(s.get('avatar_store_operation_seconds_count{store="primary",op="put"}')).toBeGreaterThanOrEqual(2);
    expect([...s.keys()].some((k) => k.startsWith('avatar_store_errors_total'))).toBe(false);
    expect(s.get(req('route="metrics",method="GET",status="200",cache="NONE",tenant=""'))).toBeGreaterThanOrEqual(2);
    expect(s.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    // The render scheduler reports into the same registry: its budget, and nothing left queued
    // or reserved once both renders are done.
    expect(s.get('avatar_render_memory_budget_bytes')).toBe(224 * 1024 * 1024);
    expect(s.get('avatar_render_queue_depth')).toBe(0);
    expect(s.get('avatar_render_memory_budget_in_use_bytes')).toBe(0);

    // The access log: one line per request, with what a report needs.
    const hit = lines.find((l) => l.url === '/demo/hopper?w=64&utm_source=mail&cb=123')!;
    expect(hit).toMatchObject({
      route: 'image',
      status: 200,
      tenant: 'demo',
      id: 'hopper',
      variant: 'demo/hopper/64x0-inside-q75.webp',
      cache: 'HIT',
      bytes: droppedBytes,
      dropped: ['utm_source', 'cb'],
      clientIp: '127.0.0.1',
    });
    expect(hit.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const miss = lines.find((l) => l.url === '/demo/hopper?w=64' && l.cache === 'MISS')!;
    expect(Object.keys(miss.timings).sort()).toEqual(['decode', 'encode', 'origin', 'resize']);
    const coalesced = lines.find((l) => l.url === '/demo/hopper?w=32' && l.cache === 'COALESCED')!;
    expect(coalesced.timings).toEqual({});

    // Masters: the first touch keeps its reduced decode (w=64 at 1/4); w=32 `inside` cannot use a
    // shrunk master, so hopper is decoded again at a full master's scale and that one is kept;
    // a 32 px cover square then renders from it.
    const kept = await scrape();
    expect(kept.get('avatar_render_masters_total{event="kept"}')).toBe(2);
    expect(kept.get('avatar_render_masters_total{event="reused"}')).toBe(0);
    expect((await fetch(`${host.url}/demo/hopper?w=32&h=32`, { headers: WEBP })).status).toBe(200);
    expect((await scrape()).get('avatar_render_masters_total{event="reused"}')).toBe(1);
  });

  it('counts purges and takedowns by outcome', async () => {
    const admin = (op: string, body: unknown) =>
      fetch(`${host.url}/_admin/${op}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await admin('purge', { keys: ['i:demo/hopper'] })).status).toBe(200);
    expect((await admin('takedown', { nothing: true })).status).toBe(400);
    expect((await admin('takedown', { tenant: 'demo', id: 'hopper', reason: 'metrics test', ticket: 'T-1' })).status).toBe(200);
    const s = await scrape();
    expect(s.get('avatar_admin_operations_total{op="purge",outcome="ok",code=""}')).toBe(1);
    expect(s.get('avatar_admin_operations_total{op="takedown",outcome="ok",code=""}')).toBe(1);
    const rejected = [...s].find(([k]) => k.startsWith('avatar_admin_operations_total{op="takedown",outcome="rejected",code="'));
    expect(rejected?.[0]).toMatch(/code="[A-Z_]+"/);
    expect(rejected?.[1]).toBe(1);
    // Taken down: the image answers 410 now (from the cache: the takedown verified it through the pipeline).
    expect((await fetch(`${host.url}/demo/hopper?w=64`, { headers: WEBP })).status).toBe(410);
    const gone = [...(await scrape())].filter(([k]) => k.startsWith('avatar_http_requests_total{route="image",method="GET",status="410",'));
    expect(gone).toEqual([[req('route="image",method="GET",status="410",cache="HIT",tenant="demo"'), 1]]);
  });

  it('/metrics needs the bearer token; /readyz reports codecs and store', async () => {
    expect((await fetch(`${host.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${host.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect([wrong.status, wrong.headers.get('cache-control'), (await wrong.json()).code]).toEqual([401, 'no-store', 'UNAUTHORIZED']);
    const ok = await fetch(`${host.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);

    const ready = await fetch(`${host.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { codecs: 'ok', store: 'ok', shutdown: 'no' } });
    ops.readiness.setDraining();
    const draining = await fetch(`${host.url}/readyz`);
    expect([draining.status, (await draining.json()).code]).toEqual([503, 'NOT_READY']);
    // /healthz stays up while draining: the process is alive.
    expect((await fetch(`${host.url}/healthz`)).status).toBe(200);
  });

  it('METRICS_ADDR serves /metrics on its own listener and nothing else', async () => {
    expect(metricsListener).toBeDefined();
    const res = await fetch(`${metricsListener!.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^# HELP avatar_http_requests_total /m);
    expect((await fetch(`${metricsListener!.url}/demo/hopper`)).status).toBe(404);
  });
});
