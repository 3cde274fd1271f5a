import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig, type ServiceInput } from '../../../src/core/config/service-config.js';

const problems = (input: ServiceInput): string[] => {
  try {
    loadServiceConfig(input);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
};

describe('tenant auth settings', () => {
  it('reports every problem at once, including unknown settings (typos must not leave a tenant open)', () => {
    const p = problems({
      tenants: {
        a: { requireSignatures: true } as never,
        b: { requireSignature: true },
        c: { keys: { 'bad kid!': 'x'.repeat(20), k1: 'short' }, allowedReferers: ['https://example.com', '*.ok.com'] },
        d: { allowEmptyReferer: false },
      },
    });
    expect(p).toEqual([
      expect.stringMatching(/^tenant 'a': unknown setting 'requireSignatures'/),
      "tenant 'b': requireSignature is true but no keys are configured",
      expect.stringMatching(/^tenant 'c': key id 'bad kid!'/),
      expect.stringMatching(/^tenant 'c': key 'k1' must be a string of at least 16/),
      expect.stringMatching(/^tenant 'c': allowedReferers must be host names/),
      "tenant 'd': allowEmptyReferer: false needs a non-empty allowedReferers",
    ]);
  });

  it('config/local.json (what npm start serves) is valid and shows both modes', () => {
    const input = JSON.parse(readFileSync(new URL('../../../config/local.json', import.meta.url), 'utf8')) as ServiceInput;
    const config = loadServiceConfig(input);
    expect(config.tenants.get('demo')).toMatchObject({ requireSignature: false, fallback: 'generated' });
    const secure = config.tenants.get('secure')!;
    expect(secure.requireSignature).toBe(true);
    expect(Object.keys(secure.keys).length).toBeGreaterThanOrEqual(2);
    expect(secure.allowedReferers.length).toBeGreaterThan(0);
    for (const secret of Object.values(secure.keys)) expect(secret).toMatch(/local-dev-only/);
  });
});
