import { describe, expect, it } from 'vitest';
import { adminTokenId } from '../../../src/core/admin/admin-auth.js';
import { ConfigError, loadServiceConfig } from '../../../src/core/config/service-config.js';

const secret = 'a'.repeat(32);

describe('admin config and token check', () => {
  it('defaults to no tokens (admin API closed)', () => {
    expect(loadServiceConfig({}).admin).toEqual({ tokens: {} });
  });

  it('lists every bad token without echoing any secret', () => {
    try {
      loadServiceConfig({ admin: { tokens: { 'bad id!': secret, short: 'hunter2-short-secret', spaced: `${secret} x` } } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems.join('\n')).not.toContain('hunter2');
    }
    expect(() => loadServiceConfig({ admin: { tokens: [] as unknown as Record<string, string> } })).toThrow(/admin.tokens/);
  });

  it('maps a bearer token to its id, and nothing else to anything', async () => {
    const tokens = { 'admin-1': secret, 'admin-2': 'b'.repeat(40) };
    expect(await adminTokenId(`Bearer ${secret}`, tokens)).toBe('admin-1');
    expect(await adminTokenId(`Bearer ${'b'.repeat(40)}`, tokens)).toBe('admin-2');
    for (const h of [null, '', secret, `bearer ${secret}`, `Bearer  ${secret}`, `Bearer ${secret} `, `Bearer ${'a'.repeat(31)}`, 'Bearer admin-1']) {
      expect(await adminTokenId(h, tokens)).toBeNull();
    }
    expect(await adminTokenId(`Bearer ${secret}`, {})).toBeNull();
  });
});

describe('admin tokens from the environment', () => {
  it('adds ADMIN_TOKEN as id "env" and ADMIN_TOKENS_JSON by name, keeping configured ones', async () => {
    const { withAdminTokenFromEnv } = await import('../../../src/core/config/admin-env.js');
    const input = { admin: { tokens: { 'local-dev': secret } } };
    expect(withAdminTokenFromEnv(input, {})).toBe(input);
    const merged = withAdminTokenFromEnv(input, { ADMIN_TOKEN: 'e'.repeat(32), ADMIN_TOKENS_JSON: JSON.stringify({ alice: 'f'.repeat(32) }) });
    expect(loadServiceConfig(merged).admin.tokens).toEqual({ 'local-dev': secret, env: 'e'.repeat(32), alice: 'f'.repeat(32) });
    expect(() => withAdminTokenFromEnv({}, { ADMIN_TOKENS_JSON: '["hunter2"]' })).toThrow(ConfigError);
    try {
      withAdminTokenFromEnv({}, { ADMIN_TOKENS_JSON: '{hunter2' });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});
