import { describe, expect, it } from 'vitest';
import { withAdminTokens, withTenantKeys } from '../../../src/core/config/secret-env.js';

describe('secrets from the environment', () => {
  const input = { tenants: { acme: { keys: { old: 'published-local-dev-key' } }, other: {} } };

  it("replaces a tenant's signing keys (the published ones stop working)", () => {
    const problems: string[] = [];
    const out = withTenantKeys(input, 'KEYS', '{"acme":{"k1":"0123456789abcdef"}}', problems);
    expect(problems).toEqual([]);
    expect(out.tenants?.acme?.keys).toEqual({ k1: '0123456789abcdef' });
    expect(out.tenants?.other).toEqual({});
  });

  it('reports unknown tenants and bad JSON without echoing secrets', () => {
    const problems: string[] = [];
    withTenantKeys(input, 'KEYS', '{"ghost":{"k":"super-secret-value"}}', problems);
    withTenantKeys(input, 'KEYS', '{not json super-secret-value', problems);
    withTenantKeys(input, 'KEYS', '{"acme":"super-secret-value"}', problems);
    expect(problems).toHaveLength(3);
    expect(problems.join(' ')).not.toContain('super-secret-value');
  });

  it('adds admin tokens: one as "env", several by name', () => {
    const problems: string[] = [];
    const out = withAdminTokens({ admin: { tokens: { file: 'x'.repeat(32) } } }, 'a'.repeat(32), '{"alice":"' + 'b'.repeat(32) + '"}', problems);
    expect(Object.keys(out.admin?.tokens ?? {}).sort()).toEqual(['alice', 'env', 'file']);
    expect(withAdminTokens(input, undefined, '', problems)).toBe(input);
  });
});
