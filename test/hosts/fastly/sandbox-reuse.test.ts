import { describe, expect, it } from 'vitest';
import { SANDBOX_DEFAULTS, sandboxOptions } from '../../../src/hosts/fastly/sandbox-reuse.js';

describe('sandbox reuse options (FASTLY_SANDBOX_* at build time)', () => {
  it('bounds every sandbox by default: requests, idle time, lifetime, memory', () => {
    expect(sandboxOptions({})).toEqual(SANDBOX_DEFAULTS);
    for (const v of Object.values(SANDBOX_DEFAULTS)) expect(v).toBeGreaterThan(0);
  });

  it('takes each bound from its variable; 1 request turns reuse off', () => {
    expect(sandboxOptions({ FASTLY_SANDBOX_MAX_REQUESTS: '1', FASTLY_SANDBOX_IDLE_MS: '2000', FASTLY_SANDBOX_LIFETIME_MS: ' 60000 ', FASTLY_SANDBOX_MAX_MEMORY_MIB: '64', PATH: '/bin' })).toEqual({
      maxRequests: 1,
      betweenRequestTimeoutMs: 2000,
      sandboxTimeoutMs: 60000,
      maxMemoryMiB: 64,
    });
  });

  it('refuses unbounded, malformed and misspelt values, every one named', () => {
    expect(() => sandboxOptions({ FASTLY_SANDBOX_MAX_REQUESTS: '0', FASTLY_SANDBOX_IDLE_MS: '1e3', FASTLY_SANDBOX_LIFETIME: '5' })).toThrow(
      /FASTLY_SANDBOX_MAX_REQUESTS must be an integer from 1 to 100000, got '0'; FASTLY_SANDBOX_IDLE_MS must be .*, got '1e3'; FASTLY_SANDBOX_LIFETIME is not a sandbox setting/,
    );
  });
});
