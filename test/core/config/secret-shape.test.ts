import { describe, expect, it } from 'vitest';
import { isSecretShaped, MAX_SECRET_LENGTH, MIN_TOKEN_LENGTH, SECRET_ID_RE, secretShapeText } from '../../../src/core/config/secret-shape.js';
import { ConfigError, loadServiceConfig } from '../../../src/core/config/service-config.js';
import { loadOpsSettings } from '../../../src/observability/ops-settings.js';

const problemsOf = (load: () => unknown): string[] => {
  try {
    load();
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
};

describe('the secret shape', () => {
  it('is printable ASCII without spaces, from the floor to 512 characters', () => {
    expect(isSecretShaped('a'.repeat(MIN_TOKEN_LENGTH), MIN_TOKEN_LENGTH)).toBe(true);
    expect(isSecretShaped('!~'.repeat(256), MIN_TOKEN_LENGTH)).toBe(true);
    expect(isSecretShaped('a'.repeat(MIN_TOKEN_LENGTH - 1), MIN_TOKEN_LENGTH)).toBe(false);
    expect(isSecretShaped('a'.repeat(MAX_SECRET_LENGTH + 1), MIN_TOKEN_LENGTH)).toBe(false);
    for (const bad of [' ', '\t', '\n', 'é', '\u0000', '\u007f']) expect(isSecretShaped('a'.repeat(40) + bad, MIN_TOKEN_LENGTH)).toBe(false);
    expect(isSecretShaped(2 ** 100, MIN_TOKEN_LENGTH)).toBe(false); // a number, not a string
    expect(secretShapeText(16)).toBe('16-512 printable characters without spaces');
  });

  it('is what admin tokens, upload tokens and METRICS_TOKEN are held to, and no secret is echoed', () => {
    const spaced = `${'s'.repeat(20)} ${'s'.repeat(20)}`;
    const problems = problemsOf(() => loadServiceConfig({ admin: { tokens: { ops: spaced } }, tenants: { demo: { uploadTokens: { ci: 'x'.repeat(513) } } } }));
    expect(problems).toContain("admin token 'ops' must be 32-512 printable characters without spaces");
    expect(problems).toContain("tenant 'demo': upload token 'ci' must be 32-512 printable characters without spaces");
    expect(problemsOf(() => loadOpsSettings({ METRICS_TOKEN: spaced }))).toEqual(['METRICS_TOKEN must be 16-512 printable characters without spaces']);
    expect(problemsOf(() => loadOpsSettings({ METRICS_TOKEN: 'm'.repeat(16) }))).toEqual([]);
    expect(JSON.stringify(problems)).not.toContain('sssss');
  });
});

describe('secret ids', () => {
  it('are 1-32 of A-Za-z0-9_- for admin tokens, upload tokens and signing keys alike', () => {
    for (const ok of ['a', 'k1', 'ci_bot-2', 'x'.repeat(32)]) expect(SECRET_ID_RE.test(ok)).toBe(true);
    for (const bad of ['', 'a.b', 'a b', 'x'.repeat(33)]) expect(SECRET_ID_RE.test(bad)).toBe(false);
    const token = 't'.repeat(32);
    const problems = problemsOf(() => loadServiceConfig({ admin: { tokens: { 'a.b': token } }, tenants: { demo: { keys: { 'k/1': token }, uploadTokens: { 'c i': token } } } }));
    expect(problems).toContain("admin token id 'a.b' must match [A-Za-z0-9_-]{1,32}");
    expect(problems).toContain("tenant 'demo': key id 'k/1' must match [A-Za-z0-9_-]{1,32}");
    expect(problems).toContain("tenant 'demo': upload token id 'c i' must match [A-Za-z0-9_-]{1,32}");
  });
});
