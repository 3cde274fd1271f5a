import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/config/service-config.js';
import { describeOps, loadOpsSettings } from '../../src/observability/ops-settings.js';

describe('operations settings', () => {
  it('defaults: /metrics off, access log on stdout without client IPs, 10 s shutdown deadline', () => {
    const s = loadOpsSettings({});
    expect(s).toEqual({ accessLog: 'stdout', clientIp: 'off', shutdownDeadlineMs: 10_000, readyStoreTimeoutMs: 2_000 });
    expect(describeOps(s)).toMatch(/^\/metrics off/);
  });

  it('reads every variable', () => {
    const s = loadOpsSettings({
      METRICS_TOKEN: 'a'.repeat(16),
      METRICS_ADDR: '[::1]:9464',
      ACCESS_LOG: 'off',
      ACCESS_LOG_CLIENT_IP: 'x-forwarded-for',
      SHUTDOWN_DEADLINE_MS: '2500',
      READY_STORE_TIMEOUT_MS: '500',
    });
    expect(s).toEqual({ metricsToken: 'a'.repeat(16), metricsAddr: { host: '::1', port: 9464 }, accessLog: 'off', clientIp: 'x-forwarded-for', shutdownDeadlineMs: 2500, readyStoreTimeoutMs: 500 });
    expect(describeOps(s)).toBe('/metrics on http://[::1]:9464 (bearer token); access log off with client IP (x-forwarded-for); /readyz');
  });

  it('lists every problem at once', () => {
    try {
      loadOpsSettings({ METRICS_TOKEN: 'short', METRICS_ADDR: 'nope', ACCESS_LOG: 'file', ACCESS_LOG_CLIENT_IP: 'yes', SHUTDOWN_DEADLINE_MS: '-1' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toHaveLength(5);
    }
  });
});
