import { describe, expect, it } from 'vitest';
import { limitFor, parseRateLimits, RATE_LIMIT_DEFAULTS } from '../../../src/core/limits/rate-limits.js';

describe('RATE_LIMITS_JSON', () => {
  it('defaults when absent; tenants inherit the top level and override what they name', () => {
    const problems: string[] = [];
    expect(parseRateLimits(undefined, problems).defaults).toEqual(RATE_LIMIT_DEFAULTS);
    const l = parseRateLimits(JSON.stringify({ clientRps: 20, tenants: { acme: { rendersPerMinute: 0 } } }), problems);
    expect(problems).toEqual([]);
    expect(limitFor(l, 'acme')).toEqual({ ...RATE_LIMIT_DEFAULTS, clientRps: 20, rendersPerMinute: 0 });
    expect(limitFor(l, 'other')).toEqual({ ...RATE_LIMIT_DEFAULTS, clientRps: 20 });
  });

  it('lists every problem: unknown keys, out-of-range values, windows Fastly does not have, bad JSON', () => {
    const problems: string[] = [];
    parseRateLimits(JSON.stringify({ clientRPS: 5, clientWindow: 5, penaltyMinutes: 0, tenants: { a: { rendersPerMinute: -1 }, b: 3 } }), problems);
    expect(problems).toEqual([
      'RATE_LIMITS_JSON.clientRPS is not a rate limit setting (clientRps, clientWindow, penaltyMinutes, rendersPerMinute)',
      'RATE_LIMITS_JSON.clientWindow must be 1, 10 or 60 (seconds), got 5',
      'RATE_LIMITS_JSON.penaltyMinutes must be an integer from 1 to 60, got 0',
      // The tenant inherits the broken top-level values, and reports them too.
      'RATE_LIMITS_JSON.tenants.a.rendersPerMinute must be an integer from 0 (off) to 1000000, got -1',
      'RATE_LIMITS_JSON.tenants.a.clientWindow must be 1, 10 or 60 (seconds), got 5',
      'RATE_LIMITS_JSON.tenants.a.penaltyMinutes must be an integer from 1 to 60, got 0',
      'RATE_LIMITS_JSON.tenants.b must be an object',
    ]);
    const bad: string[] = [];
    parseRateLimits('{nope', bad);
    expect(bad[0]).toMatch(/^RATE_LIMITS_JSON is not JSON/);
  });
});
