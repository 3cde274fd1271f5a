import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from '../../../src/core/config/service-config.js';

function problems(input: unknown): string[] {
  try {
    loadServiceConfig(input as never);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('service config', () => {
  it('fills defaults: the demo tenant, 25 MB / 50 MP source limits', () => {
    const c = loadServiceConfig();
    expect([...c.tenants.keys()]).toEqual(['demo']);
    expect(c.limits.maxSourceBytes).toBe(25 * 1024 * 1024);
    expect(c.limits.maxSourcePixels).toBe(50_000_000);
  });

  it('reports every problem at once, including typos', () => {
    const p = problems({
      tenant: { x: {} },
      limits: { maxSourceByte: 1, maxSourcePixels: -1 },
      tenants: { Bad_Name: {}, ok: { breakpoints: [], qualities: [0], fallback: 'maybe' } },
    });
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringContaining("unknown setting 'tenant'"),
        expect.stringContaining("unknown setting 'limits.maxSourceByte'"),
        'limits.maxSourcePixels must be a positive integer',
        expect.stringContaining("tenant 'Bad_Name': name must match"),
        expect.stringContaining("tenant 'ok': breakpoints"),
        expect.stringContaining("tenant 'ok': qualities"),
        expect.stringContaining("tenant 'ok': fallback"),
      ]),
    );
  });
});
