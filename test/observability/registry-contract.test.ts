import { describe, expect, it } from 'vitest';
import { createServiceMetrics } from '../../src/core/metrics/service-metrics.js';
import type { MetricsRegistry } from '../../src/core/metrics/ports.js';
import { createPromClientRegistry } from '../../src/observability/prom-client-registry.js';
import { createTextRegistry } from '../../src/observability/text-registry.js';

/** The same scripted observations, through the service's own metric definitions. */
function script(registry: MetricsRegistry): MetricsRegistry {
  const m = createServiceMetrics(registry);
  m.request({ route: 'image', method: 'GET', status: 200, cache: 'MISS', tenant: 'demo', seconds: 0.2 });
  m.request({ route: 'image', method: 'GET', status: 200, cache: 'HIT', tenant: 'demo', seconds: 0.0004 });
  m.request({ route: 'image', method: 'GET', status: 200, cache: 'HIT', tenant: 'demo', seconds: 0.003 });
  m.request({ route: 'image', method: 'GET', status: 404, cache: 'NONE', tenant: '', seconds: 0.001 });
  m.inFlight(1);
  m.render({ decode: 12.5, resize: 3, encode: 40 });
  m.render({ decode: 10, resize: 2, encode: 20, detect: 85 }); // the render that found a focal point
  m.renderFailed();
  m.store('primary', 'get', 0.004, true);
  m.store('secondary', 'head', 0.2, false);
  m.admin('purge', 'ok', '');
  m.admin('takedown', 'failed', 'INCOMPLETE');
  m.renderScheduler.queueDepth(3);
  m.renderScheduler.rejected('queue-full');
  m.renderScheduler.memoryInUse(64 * 1024 * 1024);
  m.renderScheduler.masterReused();
  return registry;
}

/** `name{labels} value` lines, for looking values up by series. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('metrics registries', () => {
  it('the Deno text registry writes exactly what prom-client writes for the same observations', async () => {
    const prom = await script(createPromClientRegistry({ processMetrics: false })).exposition();
    const text = await script(createTextRegistry()).exposition();
    expect(text).toBe(prom);
  });

  it('writes the service metrics with their values', async () => {
    const s = samples(await script(createTextRegistry()).exposition());
    expect(s.get('avatar_http_requests_total{route="image",method="GET",status="200",cache="HIT",tenant="demo"}')).toBe(2);
    expect(s.get('avatar_http_requests_total{route="image",method="GET",status="404",cache="NONE",tenant=""}')).toBe(1);
    // 0.0004 s and 0.003 s: one in the 1 ms bucket, both in the 5 ms bucket.
    expect(s.get('avatar_http_request_duration_seconds_bucket{le="0.001",route="image",cache="HIT"}')).toBe(1);
    expect(s.get('avatar_http_request_duration_seconds_bucket{le="0.005",route="image",cache="HIT"}')).toBe(2);
    expect(s.get('avatar_render_stage_seconds_sum{stage="encode"}')).toBeCloseTo(0.06);
    expect(s.get('avatar_render_stage_seconds_count{stage="decode"}')).toBe(2);
    expect(s.get('avatar_render_stage_seconds_count{stage="detect"}')).toBe(1);
    expect(s.get('avatar_render_stage_seconds_sum{stage="detect"}')).toBeCloseTo(0.085);
    expect(s.get('avatar_renders_total{outcome="error"}')).toBe(1);
    expect(s.get('avatar_store_errors_total{store="secondary",op="head"}')).toBe(1);
    expect(s.has('avatar_store_errors_total{store="primary",op="get"}')).toBe(false);
    expect(s.get('avatar_admin_operations_total{op="takedown",outcome="failed",code="INCOMPLETE"}')).toBe(1);
    expect(s.get('avatar_rate_limited_total{scope="request"}')).toBe(0);
    expect(s.get('avatar_rate_limited_total{scope="render"}')).toBe(0);
    expect(s.get('avatar_render_queue_depth')).toBe(3);
    expect(s.get('avatar_render_rejections_total{reason="queue-full"}')).toBe(1);
    expect(s.get('avatar_render_memory_budget_in_use_bytes')).toBe(67108864);
    expect(s.get('avatar_render_masters_total{event="reused"}')).toBe(1);
    expect(s.get('avatar_render_masters_total{event="kept"}')).toBe(0);
    expect(s.get('avatar_http_requests_in_flight')).toBe(1);
  });

  it('escapes label values and refuses what the format cannot carry', async () => {
    const r = createTextRegistry();
    r.counter({ name: 'x_total', help: 'line\nbreak', labelNames: ['a'] }).inc({ a: 'q"\\\n' });
    expect(await r.exposition()).toBe('# HELP x_total line\\nbreak\n# TYPE x_total counter\nx_total{a="q\\"\\\\\\n"} 1\n');
    expect(() => r.counter({ name: 'x_total', help: '' })).toThrow(/twice/);
    expect(() => r.counter({ name: 'bad-name', help: '' })).toThrow(/invalid metric name/);
    const c = r.counter({ name: 'y_total', help: '', labelNames: ['a'] });
    expect(() => c.inc({ b: '1' })).toThrow(/not declared/);
    expect(() => c.inc({ a: '1' }, -1)).toThrow(/cannot go down/);
  });

  it('the Node registry adds the process metrics', async () => {
    const text = await createPromClientRegistry().exposition();
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});
