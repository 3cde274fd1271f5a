import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import type { MetricsRegistry } from '../../src/core/metrics/ports.js';
import { createHostOps } from '../../src/observability/host-ops.js';
import { createTextRegistry } from '../../src/observability/text-registry.js';

const config = loadServiceConfig({ tenants: { demo: {} } });
const ok = () => new Response('ok');

function hostOps(env: Record<string, string>) {
  const made: MetricsRegistry[] = [];
  const ops = createHostOps({
    env,
    config,
    registry: () => {
      const r = createTextRegistry();
      made.push(r);
      return r;
    },
    store: () => {
      throw new Error('no store in this test');
    },
    codecsReady: () => true,
    log: () => {},
    writeLine: () => {},
  });
  return { ops, made, fetch: ops.wrapFetch(async () => ok()) };
}

describe('host ops: metrics only where someone can read them', () => {
  it('records nothing, and makes no registry, when /metrics is off (no METRICS_TOKEN, no METRICS_ADDR)', async () => {
    const { made, fetch } = hostOps({ ACCESS_LOG: 'off' });
    expect((await fetch(new Request('http://x/demo/a?w=64'))).status).toBe(200);
    expect(made).toEqual([]);
    expect((await fetch(new Request('http://x/metrics'))).status).toBe(404);
  });

  it('records into the host registry and serves it when a token is set', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const { made, fetch } = hostOps({ ACCESS_LOG: 'off', METRICS_TOKEN: token });
    expect(made).toHaveLength(1);
    await fetch(new Request('http://x/demo/a?w=64'));
    const res = await fetch(new Request('http://x/metrics', { headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^avatar_http_requests_total\{.*\} 1$/m);
  });
});
